#define LOG_PREFIX "mem: "
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "common/log.h"
#include "common/xio.h"
#include "mem.h"
#include "page-xfer.h"
#include "pagemap.pb-c.h"

namespace criu {

namespace {

constexpr uint64_t kPmPresent = 1ull << 63;
constexpr uint64_t kPmSwapped = 1ull << 62;
constexpr uint64_t kPmFileOrShared = 1ull << 61;
constexpr uint64_t kPmGuard = 1ull << 58; // an MADV_GUARD_INSTALL guard page
constexpr uint64_t kPmPfnMask = (1ull << 55) - 1;

struct MunmapDeleter {
	size_t len;
	void operator()(void *p) const { munmap(p, len); }
};
using Mapping = std::unique_ptr<void, MunmapDeleter>;

Result<Mapping> map_anon(size_t len)
{
	void *p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail_errno("mmap of {} bytes", len);
	return Mapping(p, MunmapDeleter{len});
}

// The PFN of the kernel's shared zero page, as our own pagemap shows it after a read fault.
Result<uint64_t> zero_page_pfn()
{
	static uint64_t pfn = 0;
	if (pfn)
		return pfn;
	Mapping m = TRY(map_anon(kPageSize));
	volatile const char *p = static_cast<const char *>(m.get());
	(void)*p;
	UniqueFd pm = TRY(xio::open("/proc/self/pagemap", O_RDONLY));
	uint64_t e = 0;
	TRY(xio::pread_full(pm.borrow(), xio::as_writable_bytes(&e, 8), off_t(uintptr_t(m.get()) / kPageSize * 8)));
	if (!(e & kPmPresent) || !(e & kPmPfnMask))
		return fail(EPERM, "can't see page frame numbers in /proc/self/pagemap (need CAP_SYS_ADMIN)");
	pfn = e & kPmPfnMask;
	return pfn;
}

bool wanted(const Vma &v, uint64_t e, uint64_t zero_pfn)
{
	if (e & kPmGuard)
		return false;
	if (e & kPmSwapped)
		return v.is(vma_status::kAnonPrivate) || !(e & kPmFileOrShared);
	if (!(e & kPmPresent))
		return false;
	if ((e & kPmPfnMask) == zero_pfn)
		return false;
	// in private file mappings, pages still backed by the file need not be dumped
	return v.is(vma_status::kAnonPrivate) || !(e & kPmFileOrShared);
}

void add_page(std::vector<PageRun> &runs, uint64_t page)
{
	if (!runs.empty() && runs.back().vaddr + runs.back().nr_pages * kPageSize == page)
		runs.back().nr_pages++;
	else
		runs.push_back({page, 1});
}

} // namespace

Result<std::vector<PageRun>> collect_dumpable_pages(pid_t pid, const std::vector<Vma> &vmas, MemDumpStats &stats)
{
	uint64_t zero_pfn = TRY(zero_page_pfn());
	std::string path = fmt::format("/proc/{}/pagemap", pid);
	UniqueFd pm = TRY(xio::open(path, O_RDONLY));
	std::vector<PageRun> runs;
	std::vector<uint64_t> ents(16384);
	for (const Vma &v : vmas) {
		if (!v.dumps_private_pages())
			continue;
		for (uint64_t addr = v.start; addr < v.end;) {
			size_t n = std::min<uint64_t>(ents.size(), (v.end - addr) / kPageSize);
			size_t got = TRY_CTX(xio::pread_full(pm.borrow(), xio::as_writable_bytes(ents.data(), n * 8),
							     off_t(addr / kPageSize * 8)),
					     "{}", path);
			if (got != n * 8)
				return fail(EIO, "{}: short read at {:#x}", path, addr);
			for (size_t i = 0; i < n; i++) {
				uint64_t page = addr + i * kPageSize;
				if (ents[i] & kPmGuard)
					add_page(stats.guards, page);
				if (!wanted(v, ents[i], zero_pfn)) {
					stats.pages_skipped++;
					continue;
				}
				add_page(runs, page);
			}
			stats.pages_scanned += n;
			addr += n * kPageSize;
		}
	}
	return runs;
}

Result<> dump_pages(pid_t pid, const std::vector<PageRun> &runs, ImageDir &dir, uint32_t pages_id,
		    PageBuffers &buffers, MemDumpStats &stats)
{
	ImageWriter pagemap = TRY(dir.create_image(img::Kind::Pagemap, uint64_t(pid)));
	PagemapHead head = PAGEMAP_HEAD__INIT;
	head.pages_id = pages_id;
	TRY(pagemap.write(head.base));
	auto write_runs = [&pagemap](const std::vector<PageRun> &rs, uint32_t flags) -> Result<> {
		for (const PageRun &r : rs) {
			PagemapEntry e = PAGEMAP_ENTRY__INIT;
			e.vaddr = r.vaddr;
			e.nr_pages = uint32_t(r.nr_pages);
			e.has_flags = true;
			e.flags = flags;
			TRY(pagemap.write(e.base));
		}
		return {};
	};
	TRY(write_runs(runs, kPePresent));
	TRY(write_runs(stats.guards, kPeGuard)); // no pages in pages-N.img
	TRY(pagemap.close());

	PagesWriter pages = TRY(dir.create_pages(pages_id));
	stats.pages_written += TRY(transfer_pages(pid, runs, pages, buffers));
	TRY(pages.close());
	pr_info("{}: {} pages in {} runs written to pages-{}.img", pid, stats.pages_written, runs.size(), pages_id);
	return {};
}

} // namespace criu
