// A task's private memory: which pages hold data (from /proc/PID/pagemap) and writing them
// into pagemap-PID.img and pages-N.img.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "image-dir.h"
#include "page-xfer.h"
#include "vma.h"

namespace criu {

struct MemDumpStats {
	uint64_t pages_scanned = 0; // pages of the VMAs looked at
	uint64_t pages_skipped = 0; // not present, the zero page, or file pages unchanged
	uint64_t pages_written = 0;
	std::vector<PageRun> guards; // MADV_GUARD_INSTALL guard pages (no data; installed again on restore)
};

// pagemap_entry flags: CRIU's PE_PRESENT, and ours for guard pages (a run with no pages data).
inline constexpr uint32_t kPePresent = 1u << 2;
inline constexpr uint32_t kPeGuard = 1u << 8;

// Runs of pages of vmas that must be dumped: present or swapped, not the shared zero page,
// and in private file mappings only pages that became anonymous (written to).
[[nodiscard]] Result<std::vector<PageRun>> collect_dumpable_pages(pid_t pid, const std::vector<Vma> &vmas,
								  MemDumpStats &stats);

// Writes pagemap-<pid>.img (head: pages_id, then one entry per run) and the pages themselves
// into pages-<pages_id>.img, sealed when the directory is. The task must be frozen.
[[nodiscard]] Result<> dump_pages(pid_t pid, const std::vector<PageRun> &runs, ImageDir &dir, uint32_t pages_id,
				  PageBuffers &buffers, MemDumpStats &stats);

} // namespace criu
