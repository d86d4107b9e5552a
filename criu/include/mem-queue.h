// The dump's memory thread: while the main thread (the tracer, which alone may use ptrace on the
// tree) goes on with the next task's parasite, registers and files, this thread reads, seals and
// writes the pages of the tasks done so far, in order. A tree of small tasks keeps both cores
// busy this way; one big task still spreads its pages over page-xfer's workers.
//
//   MemDumpQueue q(dir);
//   for (each frozen task) { ...; q.push(TRY(dump_mm(ctx, ps))); TRY(q.check()); }
//   MemDumpResult m = TRY(q.finish());
//
// The tasks must stay frozen until finish() returns. Destroying the queue without finish()
// drops the jobs not started and waits for the one running.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "common/result.h"
#include "dump-context.h"
#include "page-xfer.h"

namespace criu {

class MemDumpQueue {
public:
	explicit MemDumpQueue(ImageDir &dir) : dir_(dir) {}
	MemDumpQueue(const MemDumpQueue &) = delete;
	MemDumpQueue &operator=(const MemDumpQueue &) = delete;
	~MemDumpQueue();

	void push(MemoryJob job);
	// Waits until every job pushed so far is done (no page of the tasks is being read);
	// the first failure of a job so far, if any.
	[[nodiscard]] Result<> wait_idle();
	// The first failure of a job so far, if any.
	[[nodiscard]] Result<> check();
	// Waits for every job; their statistics summed, or the first failure.
	[[nodiscard]] Result<MemDumpResult> finish();

private:
	void run();
	void stop(bool drain);

	ImageDir &dir_;
	PageBuffers buffers_;             // the thread's
	std::set<uint64_t> shmem_done_;   // the thread's: segments saved so far
	std::mutex mu_;
	std::condition_variable cv_;
	std::deque<MemoryJob> jobs_;
	bool closing_ = false;
	bool running_ = false; // a job is being done
	MemDumpResult total_;
	std::optional<Error> error_;
	std::jthread thread_; // last: joined before the rest goes
};

} // namespace criu
