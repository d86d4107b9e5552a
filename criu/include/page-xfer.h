// Moving a frozen task's pages into a pages image: batches are read from the task, sealed and
// written at their place in the image by worker threads, and recorded (tags) in order by the
// caller, so reading, sealing and writing overlap on all cores while memory use stays bounded
// (a few 4 MiB batches).
#pragma once

#include <sys/types.h>

#include <vector>

#include "common/result.h"
#include "pages-image.h"

namespace criu {

struct PageRun {
	uint64_t vaddr;
	uint64_t nr_pages;
};

// The batch buffers of a dump, kept from one task's transfer to the next: a tree of small
// tasks would otherwise fault in (and zero) fresh memory for every task. Grows to what the
// largest transfer needs, at most workers * 2 batches (16 MiB with two workers).
class PageBuffers {
public:
	PageBuffers() = default;
	PageBuffers(const PageBuffers &) = delete;
	PageBuffers &operator=(const PageBuffers &) = delete;
	~PageBuffers();

	// At least len bytes of page-aligned memory, valid until the next get().
	[[nodiscard]] Result<uint8_t *> get(size_t len);

private:
	uint8_t *area_ = nullptr;
	size_t len_ = 0;
};

// Writes the pages of runs, in order, to w. Returns the number of pages written. A transfer of
// one batch runs on the calling thread; larger ones on `workers` threads.
[[nodiscard]] Result<uint64_t> transfer_pages(pid_t pid, const std::vector<PageRun> &runs, PagesWriter &w,
					      PageBuffers &buffers, unsigned workers = 2);

} // namespace criu
