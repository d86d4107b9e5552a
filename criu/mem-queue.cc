#define LOG_PREFIX "dump: "
#include "mem-queue.h"

namespace criu {

MemDumpResult &operator+=(MemDumpResult &a, const MemDumpResult &b)
{
	a.pages_scanned += b.pages_scanned, a.pages_skipped += b.pages_skipped, a.pages_written += b.pages_written;
	a.memdump_us += b.memdump_us, a.memwrite_us += b.memwrite_us;
	return a;
}

MemDumpQueue::~MemDumpQueue() { stop(false); }

// Lets the thread finish the jobs queued (drain) or only the one it is running, and joins it.
void MemDumpQueue::stop(bool drain)
{
	{
		std::lock_guard lk(mu_);
		closing_ = true;
		if (!drain)
			jobs_.clear();
	}
	cv_.notify_all();
	if (thread_.joinable())
		thread_.join();
}

void MemDumpQueue::push(MemoryJob job)
{
	{
		std::lock_guard lk(mu_);
		jobs_.push_back(std::move(job));
	}
	if (!thread_.joinable())
		thread_ = std::jthread([this] { run(); });
	cv_.notify_all();
}

void MemDumpQueue::run()
{
	std::unique_lock lk(mu_);
	for (;;) {
		cv_.wait(lk, [&] { return closing_ || !jobs_.empty(); });
		if (jobs_.empty() || error_)
			return;
		MemoryJob job = std::move(jobs_.front());
		jobs_.pop_front();
		running_ = true;
		lk.unlock();
		Result<MemDumpResult> r = dump_memory(job, dir_, buffers_, shmem_done_);
		lk.lock();
		running_ = false;
		if (r)
			total_ += *r;
		else if (!error_)
			error_.emplace(std::move(r.error()));
		cv_.notify_all();
	}
}

Result<> MemDumpQueue::wait_idle()
{
	std::unique_lock lk(mu_);
	cv_.wait(lk, [&] { return (jobs_.empty() && !running_) || error_; });
	if (error_)
		return std::unexpected(*error_);
	return {};
}

Result<> MemDumpQueue::check()
{
	std::lock_guard lk(mu_);
	if (error_)
		return std::unexpected(*error_);
	return {};
}

Result<MemDumpResult> MemDumpQueue::finish()
{
	stop(true);
	if (error_)
		return std::unexpected(*error_);
	return total_;
}

} // namespace criu
