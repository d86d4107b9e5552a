// Premapping, filling and placing a task's memory (see restore-mem.h).
#define LOG_PREFIX "restore-mem: "
#include "restore-mem.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "common/log.h"
#include "files.h"
#include "shmem.h"
#include "vma.h"

namespace criu {

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kTaskSize = 0x7ffffffff000ull; // 47-bit user address space
constexpr uint64_t kLowest = 1ull << 32;          // leave the low 4 GiB to the task
constexpr int kMadvGuardInstall = 102;

bool is_special(const VmaEntry &v)
{
	return v.status & (vma_status::kVdso | vma_status::kVvar | vma_status::kVsyscall);
}

bool is_vdso(uint32_t status) { return status & (vma_status::kVdso | vma_status::kVvar); }

Result<> check_supported(const VmaEntry &v)
{
	constexpr uint32_t kinds = vma_status::kAnonPrivate | vma_status::kFilePrivate | vma_status::kFileShared |
				   vma_status::kAnonShared;
	constexpr uint32_t not_yet = vma_status::kUnsupported | vma_status::kSysvIpc | vma_status::kAioRing |
				     vma_status::kSocket;
	if (!(v.status & vma_status::kRegular) || !(v.status & kinds) || (v.status & not_yet))
		return fail(EOPNOTSUPP, "VMA {:#x}-{:#x} (status {:#x}) can't be restored yet", v.start, v.end,
			    v.status);
	if (v.start % kPage || v.end % kPage || v.end <= v.start || v.end > kTaskSize)
		return fail(EINVAL, "VMA {:#x}-{:#x} is not a valid user range", v.start, v.end);
	return {};
}

// Holes of the task's layout large enough for size, largest first.
std::vector<std::pair<uint64_t, uint64_t>> holes(const MmEntry &mm, uint64_t size)
{
	std::vector<std::pair<uint64_t, uint64_t>> out;
	uint64_t prev = kLowest;
	auto add = [&](uint64_t end) {
		if (end > prev && end - prev >= size)
			out.emplace_back(prev, end);
	};
	for (size_t i = 0; i < mm.n_vmas; i++) {
		const VmaEntry &v = *mm.vmas[i];
		if (v.start >= kTaskSize)
			continue;
		add(std::min(v.start, kTaskSize));
		prev = std::max(prev, v.end);
	}
	add(kTaskSize);
	std::sort(out.begin(), out.end(),
		  [](auto &a, auto &b) { return a.second - a.first > b.second - b.first; });
	return out;
}

// Reserves size bytes in one of the holes, where this process has nothing mapped either.
Result<uint64_t> reserve(const MmEntry &mm, uint64_t size)
{
	constexpr uint64_t kAlign = 2ull << 20;
	for (auto [lo, hi] : holes(mm, size)) {
		uint64_t top = (hi - size) & ~(kAlign - 1);
		uint64_t mid = (lo + (hi - lo - size) / 2) & ~(kAlign - 1);
		for (uint64_t at : {mid, top, lo}) {
			if (at < lo || at + size > hi)
				continue;
			void *p = mmap(reinterpret_cast<void *>(at), size, PROT_NONE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
			if (p == reinterpret_cast<void *>(at))
				return at;
			if (p != MAP_FAILED)
				munmap(p, size);
		}
	}
	return fail(ENOMEM, "no room for {} bytes of premapped memory in the task's address space", size);
}

Result<> map_slot(const VmaEntry &v, uint64_t slot, const FileTable &files, const ShmemTable &shmem)
{
	void *at = reinterpret_cast<void *>(slot);
	size_t len = v.end - v.start;
	void *p;
	if (v.status & vma_status::kAnonShared)
		return shmem.map(v, slot);
	if (v.status & vma_status::kAnonPrivate) {
		int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | (int(v.flags) & (MAP_GROWSDOWN | MAP_NORESERVE));
		p = mmap(at, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	} else {
		bool shared = v.status & vma_status::kFileShared;
		int oflags = shared && (v.prot & PROT_WRITE) ? O_RDWR : O_RDONLY;
		uint32_t id = uint32_t(v.shmid);
		auto opened = (v.status & vma_status::kMemfd) ? files.open_memfd(id, oflags) : files.open_reg(id, oflags);
		UniqueFd fd = TRY_CTX(std::move(opened), "file of VMA {:#x}-{:#x}", v.start, v.end);
		int prot = shared ? int(v.prot) : PROT_READ | PROT_WRITE;
		p = mmap(at, len, prot, (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED, fd.get(), off_t(v.pgoff));
	}
	if (p != at)
		return fail_errno("can't premap VMA {:#x}-{:#x}", v.start, v.end);
	return {};
}

} // namespace

Result<MemRestore> MemRestore::premap(const TaskImages &task, const FileTable &files, const ShmemTable &shmem,
					 size_t bootstrap_size)
{
	const MmEntry &mm = task.mm_entry();
	MemRestore m;
	m.bootstrap_size_ = (bootstrap_size + kPage - 1) & ~(kPage - 1);
	uint64_t total = m.bootstrap_size_;
	for (size_t i = 0; i < mm.n_vmas; i++) {
		const VmaEntry &v = *mm.vmas[i];
		if (is_special(v))
			continue;
		TRY_CTX(check_supported(v), "mm-{}.img", task.pid);
		if (!m.vmas_.empty() && m.vmas_.back().vma->end > v.start)
			return fail(EINVAL, "mm-{}.img: VMAs overlap or are out of order at {:#x}", task.pid, v.start);
		m.vmas_.push_back({&v, total});
		total += v.end - v.start;
	}
	m.size_ = total;
	m.base_ = TRY(reserve(mm, total));
	for (PremappedVma &pv : m.vmas_)
		pv.slot += m.base_;
	pr_debug("premap region {:#x}-{:#x}: bootstrap {} bytes, {} VMAs", m.base_, m.base_ + total,
		 m.bootstrap_size_, m.vmas_.size());

	void *boot = mmap(reinterpret_cast<void *>(m.base_), m.bootstrap_size_, PROT_READ | PROT_WRITE | PROT_EXEC,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (boot == MAP_FAILED)
		return fail_errno("can't map the bootstrap area");
	for (const PremappedVma &pv : m.vmas_)
		TRY_CTX(map_slot(*pv.vma, pv.slot, files, shmem), "mm-{}.img", task.pid);
	return m;
}

namespace {

// The runs of pages to read, split at VMA boundaries.
Result<std::vector<PageRead>> pieces_of(const TaskImages &task, const std::vector<PremappedVma> &vmas)
{
	std::vector<PageRead> out;
	uint64_t index = 0;
	for (const PageRun &run : task.pagemap) {
		uint64_t addr = run.vaddr, end = run.vaddr + run.nr_pages * kPage;
		while (addr < end) {
			auto it = std::upper_bound(vmas.begin(), vmas.end(), addr,
						   [](uint64_t a, const PremappedVma &pv) { return a < pv.vma->end; });
			if (it == vmas.end() || it->vma->start > addr)
				return fail(EINVAL, "pagemap-{}.img: page {:#x} is in no restorable VMA", task.pid, addr);
			uint64_t n = (std::min(end, it->vma->end) - addr) / kPage;
			out.push_back({reinterpret_cast<uint8_t *>(it->slot + (addr - it->vma->start)), index, n});
			index += n;
			addr += n * kPage;
		}
	}
	return out;
}

// Fresh anonymous memory costs more to fault in than to fill (and, sealed, to decrypt): the
// pages are cut into chunks that two threads take in turn, each faulting its chunk in
// (MADV_POPULATE_WRITE), reading it and decrypting it while the chunk is in cache.
constexpr uint64_t kChunkPages = 512;

std::vector<PageRead> chunks_of(const std::vector<PageRead> &pieces)
{
	std::vector<PageRead> out;
	for (const PageRead &p : pieces)
		for (uint64_t off = 0; off < p.pages; off += kChunkPages)
			out.push_back({p.dst + off * kPage, p.index + off, std::min(kChunkPages, p.pages - off)});
	return out;
}

class ChunkReader {
public:
	explicit ChunkReader(const std::vector<PageRead> &chunks) : chunks_(chunks) {}

	// Runs in each thread with its own reader, until the chunks run out or a thread fails.
	void run(PagesReader &pages)
	{
		for (size_t i = next_++; i < chunks_.size() && !failed_; i = next_++) {
			const PageRead &c = chunks_[i];
			madvise(c.dst, c.pages * kPage, MADV_POPULATE_WRITE); // a failure only costs speed
			auto r = pages.read(c.index, {c.dst, c.pages * kPage});
			if (!r) {
				std::lock_guard lock(mu_);
				if (!failed_.exchange(true))
					error_ = r.error().context(fmt::format("pages at {:#x}", reinterpret_cast<uint64_t>(c.dst)));
			}
		}
	}
	Result<> result()
	{
		if (failed_)
			return std::unexpected(error_);
		return {};
	}

private:
	const std::vector<PageRead> &chunks_;
	std::atomic<size_t> next_{0};
	std::atomic<bool> failed_{false};
	std::mutex mu_;
	Error error_{0, ""};
};

} // namespace

Result<uint64_t> read_page_runs(const std::vector<PageRead> &runs, PagesReader &pages)
{
	std::vector<PageRead> chunks = chunks_of(runs);
	uint64_t total = 0;
	for (const PageRead &c : chunks)
		total += c.pages;
	ChunkReader reader(chunks);
	if (total <= 2 * kChunkPages) { // a small task: a second thread costs more than it saves
		reader.run(pages);
	} else {
		PagesReader other = TRY(pages.share());
		std::thread helper([&] { reader.run(other); });
		reader.run(pages);
		helper.join();
	}
	TRY(reader.result());
	return total;
}

Result<> MemRestore::fill(const TaskImages &task, PagesReader &pages)
{
	uint64_t total = TRY(read_page_runs(TRY(pieces_of(task, vmas_)), pages));
	for (const PageRun &g : task.guards) {
		auto it = std::upper_bound(vmas_.begin(), vmas_.end(), g.vaddr,
					   [](uint64_t a, const PremappedVma &pv) { return a < pv.vma->end; });
		if (it == vmas_.end() || it->vma->start > g.vaddr || g.vaddr + g.nr_pages * kPage > it->vma->end)
			return fail(EINVAL, "pagemap-{}.img: guard pages at {:#x} are in no restorable VMA", task.pid,
				    g.vaddr);
		if (madvise(reinterpret_cast<void *>(it->slot + (g.vaddr - it->vma->start)), g.nr_pages * kPage,
			    kMadvGuardInstall))
			return fail_errno("can't install guard pages at {:#x}", g.vaddr);
	}
	for (const PremappedVma &pv : vmas_) {
		const VmaEntry &v = *pv.vma;
		auto *at = reinterpret_cast<void *>(pv.slot);
		if (mprotect(at, v.end - v.start, int(v.prot)))
			return fail_errno("mprotect of VMA {:#x}-{:#x}", v.start, v.end);
		for (int advice = 0; v.has_madv && advice < 64; advice++) {
			if ((v.madv & (1ull << advice)) && madvise(at, v.end - v.start, advice))
				return fail_errno("madvise({}) of VMA {:#x}-{:#x}", advice, v.start, v.end);
		}
	}
	pr_info("{} pages read into {} VMAs", total, vmas_.size());
	return {};
}

Result<std::vector<rst_move>> MemRestore::moves(const TaskImages &task) const
{
	const MmEntry &mm = task.mm_entry();
	std::vector<Vma> mine;
	for (Vma &v : TRY(parse_maps(getpid())))
		if (is_vdso(v.status))
			mine.push_back(std::move(v));
	std::vector<const VmaEntry *> theirs;
	for (size_t i = 0; i < mm.n_vmas; i++)
		if (is_vdso(mm.vmas[i]->status))
			theirs.push_back(mm.vmas[i]);

	std::vector<rst_move> out;
	if (!theirs.empty()) {
		bool same = mine.size() == theirs.size();
		for (size_t i = 0; same && i < mine.size(); i++)
			same = mine[i].size() == theirs[i]->end - theirs[i]->start &&
			       mine[i].start - mine[0].start == theirs[i]->start - theirs[0]->start;
		if (!same)
			return fail(EOPNOTSUPP, "mm-{}.img: the task's vdso/vvar layout differs from this kernel's "
						"(checkpointed on another kernel?)", task.pid);
		// Pieces keep their order and spacing: move them so none lands on one not yet moved.
		bool up = theirs[0]->start > mine[0].start;
		for (size_t k = 0; k < mine.size(); k++) {
			size_t i = up ? mine.size() - 1 - k : k;
			if (mine[i].start != theirs[i]->start)
				out.push_back({mine[i].start, theirs[i]->start, mine[i].size()});
		}
	}
	for (const PremappedVma &pv : vmas_)
		out.push_back({pv.slot, pv.vma->start, pv.vma->end - pv.vma->start});
	return out;
}

Result<std::vector<rst_range>> MemRestore::unmap_list(const TaskImages &task) const
{
	// Keep the region, and the vdso/vvar when the task has them (they are moved, not unmapped).
	std::vector<rst_range> keep{{base_, size_}};
	bool task_has_vdso = false;
	const MmEntry &mm = task.mm_entry();
	for (size_t i = 0; i < mm.n_vmas; i++)
		task_has_vdso |= is_vdso(mm.vmas[i]->status);
	if (task_has_vdso)
		for (const Vma &v : TRY(parse_maps(getpid())))
			if (is_vdso(v.status))
				keep.push_back({v.start, v.size()});
	std::sort(keep.begin(), keep.end(), [](auto &a, auto &b) { return a.start < b.start; });

	std::vector<rst_range> out;
	uint64_t at = 0;
	for (const rst_range &k : keep) {
		if (k.start > at)
			out.push_back({at, k.start - at});
		at = std::max(at, k.start + k.len);
	}
	if (at < kTaskSize)
		out.push_back({at, kTaskSize - at});
	return out;
}

} // namespace criu
