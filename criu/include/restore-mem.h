// Restoring a task's memory in criu's child: every VMA is premapped in one region that lies in
// a hole of the task's address space, filled there from the pages images (decrypted in place),
// and moved to its address by the restorer. The region starts with the bootstrap area that
// holds the restorer blob, its arguments and the thread stacks.
#pragma once

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "restore.h"
#include "restorer-abi.h"

namespace criu {

class FileTable;

struct PremappedVma {
	const VmaEntry *vma = nullptr;
	uint64_t slot = 0; // where it sits until the restorer moves it
};

// Pages [index, index + pages) of a pages image, to be read to dst.
struct PageRead {
	uint8_t *dst;
	uint64_t index, pages;
};

// Reads the runs into fresh anonymous memory (decrypting when the image is sealed): cut into
// 2 MiB chunks that two threads take in turn (one thread for up to two chunks), each faulting
// its chunk in (MADV_POPULATE_WRITE) before reading it. The benchmark bench-memdump times it.
[[nodiscard]] Result<uint64_t> read_page_runs(const std::vector<PageRead> &runs, PagesReader &pages);

class MemRestore {
public:
	// Reserves [bootstrap | premapped VMAs] in a hole of the task's layout and maps each VMA
	// there (anonymous, the file for file mappings through files, shared memory from the
	// segments the root made: ShmemTable::create_all).
	[[nodiscard]] static Result<MemRestore> premap(const TaskImages &task, const FileTable &files,
						      const ShmemTable &shmem, size_t bootstrap_size);

	// Reads every page of the pagemap into its VMA's slot, then gives each slot its protection
	// and madvise state.
	[[nodiscard]] Result<> fill(const TaskImages &task, PagesReader &pages);

	uint64_t bootstrap() const { return base_; }
	size_t bootstrap_size() const { return bootstrap_size_; }
	// The restorer's moves: the VMAs, then this process's vdso/vvar to the task's addresses.
	[[nodiscard]] Result<std::vector<rst_move>> moves(const TaskImages &task) const;
	// The ranges the restorer unmaps: the whole user address space but the region and, when
	// the task has them, this process's vdso/vvar (moved instead).
	[[nodiscard]] Result<std::vector<rst_range>> unmap_list(const TaskImages &task) const;

	MemRestore(MemRestore &&) noexcept = default;
	MemRestore &operator=(MemRestore &&) noexcept = default;

private:
	MemRestore() = default;

	uint64_t base_ = 0;
	size_t bootstrap_size_ = 0;
	size_t size_ = 0; // of the whole region
	std::vector<PremappedVma> vmas_;
};

} // namespace criu
