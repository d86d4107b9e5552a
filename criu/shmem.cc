// Shared anonymous memory, dump and restore (see shmem.h).
#define LOG_PREFIX "shmem: "
#include "shmem.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "common/log.h"
#include "common/xio.h"
#include "pagemap.pb-c.h"

namespace criu {

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kBatch = 1024; // pages per write

// Allocated ranges [off, end) of the segment seen through fd, within [from, to).
Result<std::vector<std::pair<uint64_t, uint64_t>>> data_ranges(int fd, uint64_t from, uint64_t to,
								const std::string &path)
{
	std::vector<std::pair<uint64_t, uint64_t>> out;
	for (uint64_t at = from; at < to;) {
		off_t data = lseek(fd, off_t(at), SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0)
			return fail_errno("{}: SEEK_DATA", path);
		if (uint64_t(data) >= to)
			break;
		off_t hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			return fail_errno("{}: SEEK_HOLE", path);
		uint64_t end = std::min<uint64_t>(uint64_t(hole), to);
		out.emplace_back(uint64_t(data) & ~(kPage - 1), (end + kPage - 1) & ~(kPage - 1));
		at = end;
	}
	return out;
}

Result<> write_pagemap(ImageDir &dir, uint64_t shmid, uint32_t pages_id,
		       const std::vector<std::pair<uint64_t, uint64_t>> &ranges)
{
	ImageWriter pagemap = TRY(dir.create_image(img::Kind::ShmemPagemap, shmid));
	PagemapHead head = PAGEMAP_HEAD__INIT;
	head.pages_id = pages_id;
	TRY(pagemap.write(head.base));
	for (auto [off, end] : ranges) {
		PagemapEntry e = PAGEMAP_ENTRY__INIT;
		e.vaddr = off;
		e.nr_pages = uint32_t((end - off) / kPage);
		TRY(pagemap.write(e.base));
	}
	return pagemap.close();
}

} // namespace

Result<uint64_t> dump_shmem_pages(BorrowedFd fd, const std::string &path, uint64_t from, uint64_t to,
				  uint64_t shmid, ImageDir &dir, uint32_t pages_id)
{
	auto ranges = TRY(data_ranges(fd.get(), from, to, path));
	TRY(write_pagemap(dir, shmid, pages_id, ranges));

	PagesWriter pages = TRY(dir.create_pages(pages_id));
	std::vector<uint8_t> buf(kBatch * kPage);
	uint64_t written = 0;
	for (auto [off, end] : ranges) {
		for (uint64_t at = off; at < end;) {
			size_t n = std::min<uint64_t>(end - at, buf.size());
			size_t got = TRY_CTX(xio::pread_full(fd, xio::as_writable_bytes(buf.data(), n), off_t(at)), "{}", path);
			if (got == 0)
				return fail(EIO, "{}: nothing to read at {:#x}", path, at);
			std::memset(buf.data() + got, 0, n - got); // past the end of a memfd of unaligned size
			TRY(pages.write(std::span<uint8_t>(buf.data(), n)));
			written += n / kPage;
			at += n;
		}
	}
	TRY(pages.close());
	return written;
}

Result<> restore_shmem_pages(ImageDir &dir, uint64_t shmid, uint8_t *at, uint64_t from, uint64_t len)
{
	ImageReader pagemap = TRY(dir.open_image(img::Kind::ShmemPagemap, shmid));
	auto head = TRY(pagemap.read(&pagemap_head__descriptor));
	if (!head)
		return fail(EINVAL, "{}: no head", pagemap.name());
	PagesReader pages = TRY(dir.open_pages(pb_cast<PagemapHead>(*head)->pages_id));
	uint64_t index = 0;
	while (auto e = TRY(pagemap.read())) {
		const PagemapEntry &pe = *pb_cast<PagemapEntry>(*e);
		uint64_t n = uint64_t(pe.nr_pages) * kPage;
		if (pe.vaddr % kPage || pe.vaddr < from || pe.vaddr + n > from + len)
			return fail(EINVAL, "{}: pages at {:#x} are outside the mapping", pagemap.name(), pe.vaddr);
		TRY(pages.read(index, {at + (pe.vaddr - from), n}));
		index += pe.nr_pages;
	}
	return {};
}

namespace {

// The whole segment behind VMA v of pid, whatever part of it v shows.
Result<uint64_t> dump_segment(pid_t pid, const Vma &v, ImageDir &dir, uint32_t pages_id)
{
	std::string path = fmt::format("/proc/{}/map_files/{:x}-{:x}", pid, v.start, v.end);
	UniqueFd fd = TRY(xio::open(path, O_RDONLY));
	struct stat st;
	if (fstat(fd.get(), &st) < 0)
		return fail_errno("can't stat {}", path);
	return dump_shmem_pages(fd.borrow(), path, 0, uint64_t(st.st_size), v.ino, dir, pages_id);
}

// Where the saved pages of segment shmid end.
Result<uint64_t> saved_extent(ImageDir &dir, uint64_t shmid)
{
	ImageReader pagemap = TRY(dir.open_image(img::Kind::ShmemPagemap, shmid));
	uint64_t end = 0;
	if (!TRY(pagemap.read(&pagemap_head__descriptor)))
		return fail(EINVAL, "{}: no head", pagemap.name());
	while (auto e = TRY(pagemap.read())) {
		const PagemapEntry &pe = *pb_cast<PagemapEntry>(*e);
		end = std::max(end, pe.vaddr + uint64_t(pe.nr_pages) * kPage);
	}
	return end;
}

// Fills the new segment mapped at p from the images; a file of it, for the tasks to map.
Result<UniqueFd> fill_segment(ImageDir &dir, uint64_t shmid, uint8_t *p, uint64_t size)
{
	TRY(restore_shmem_pages(dir, shmid, p, 0, size));
	return xio::open(fmt::format("/proc/self/map_files/{:x}-{:x}", uint64_t(p), uint64_t(p) + size),
			 O_RDWR | O_CLOEXEC);
}

} // namespace

Result<uint64_t> dump_shmem(pid_t pid, const std::vector<Vma> &vmas, ImageDir &dir, uint32_t first_pages_id,
			    std::set<uint64_t> &done)
{
	uint32_t next = first_pages_id;
	uint64_t pages = 0;
	for (const Vma &v : vmas) {
		if (!v.is(vma_status::kAnonShared) || v.is(vma_status::kSysvIpc) || done.count(v.ino))
			continue;
		pages += TRY_CTX(dump_segment(pid, v, dir, next++), "shared memory {:#x}-{:#x} of {}", v.start, v.end, pid);
		done.insert(v.ino);
	}
	return pages;
}

void ShmemTable::add(const VmaEntry &v)
{
	Segment &s = segments_[v.shmid];
	s.size = std::max(s.size, v.pgoff + (v.end - v.start));
}

Result<> ShmemTable::create_all(ImageDir &dir, int above) const
{
	for (const auto &[shmid, s] : segments_) {
		uint64_t size = std::max(s.size, TRY(saved_extent(dir, shmid)));
		void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return fail_errno("can't make shared memory {} ({} bytes)", shmid, size);
		auto fd = fill_segment(dir, shmid, static_cast<uint8_t *>(p), size);
		munmap(p, size);
		UniqueFd own = TRY_CTX(std::move(fd), "shared memory {}", shmid);
		s.fd.reset(fcntl(own.get(), F_DUPFD_CLOEXEC, above + 1));
		if (!s.fd)
			return fail_errno("can't move shared memory {} above fd {}", shmid, above);
		pr_debug("shared memory {}: {} bytes on fd {}", shmid, size, s.fd.get());
	}
	return {};
}

Result<> ShmemTable::map(const VmaEntry &v, uint64_t slot) const
{
	auto it = segments_.find(v.shmid);
	if (it == segments_.end() || !it->second.fd)
		return fail(ENOENT, "shared memory {} of VMA {:#x}-{:#x} was not made", v.shmid, v.start, v.end);
	void *at = reinterpret_cast<void *>(slot);
	if (mmap(at, v.end - v.start, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, it->second.fd.get(),
		 off_t(v.pgoff)) != at)
		return fail_errno("can't map shared memory {} at {:#x}", v.shmid, v.start);
	return {};
}

} // namespace criu
