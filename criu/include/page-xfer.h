// Moving a frozen task's pages into a pages image: batches are read from the task and sealed
// on worker threads, and written in order by the caller, so reading, sealing and writing
// overlap on all cores while memory use stays bounded (a few 4 MiB batches).
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

// Writes the pages of runs, in order, to w. Returns the number of pages written.
[[nodiscard]] Result<uint64_t> transfer_pages(pid_t pid, const std::vector<PageRun> &runs, PagesWriter &w,
					      unsigned workers = 2);

} // namespace criu
