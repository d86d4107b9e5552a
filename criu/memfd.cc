// memfd files, dump and restore (see memfd.h).
#define LOG_PREFIX "memfd: "
#include "memfd.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/memfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bit>
#include <algorithm>
#include <climits>

#include "common/log.h"
#include "common/xio.h"
#include "fdinfo.pb-c.h"
#include "files-reg.h"
#include "shmem.h"

namespace criu {

std::string memfd_name(std::string_view link)
{
	constexpr std::string_view prefix = "/memfd:", deleted = " (deleted)";
	if (link.ends_with(deleted))
		link.remove_suffix(deleted.size());
	if (link.starts_with(prefix))
		link.remove_prefix(prefix.size());
	return std::string(link);
}

namespace {

// MFD_HUGETLB with the page size for a memfd on hugetlbfs, 0 for one on tmpfs.
Result<uint32_t> hugetlb_flag(BorrowedFd fd, const std::string &path)
{
	struct statfs sfs {};
	if (fstatfs(fd.get(), &sfs))
		return fail_errno("can't statfs {}", path);
	if (sfs.f_type == TMPFS_MAGIC)
		return 0;
	if (sfs.f_type == HUGETLBFS_MAGIC)
		return MFD_HUGETLB | (uint32_t(std::countr_zero(uint64_t(sfs.f_bsize))) << MFD_HUGE_SHIFT);
	return fail(ENOTSUP, "{} is on neither tmpfs nor hugetlbfs (magic {:#x}): not a memfd", path,
		    uint64_t(sfs.f_type));
}

} // namespace

// ---- dump ----

Result<uint32_t> MemfdDumper::dump_inode(const FdParms &p)
{
	auto key = std::make_pair(uint64_t(p.st.st_dev), uint64_t(p.st.st_ino));
	if (auto it = inode_ids_.find(key); it != inode_ids_.end())
		return it->second;
	if (p.st.st_ino > UINT32_MAX)
		return fail(EOVERFLOW, "{}: inode {} does not fit CRIU's 32-bit shmid", p.what(), p.st.st_ino);
	uint32_t id = uint32_t(inode_ids_.size()) + 1;
	std::string name = memfd_name(p.link);
	UniqueFd fd = TRY_CTX(xio::open(p.proc_path, O_RDONLY), "{}", p.what());

	MemfdInodeEntry mie = MEMFD_INODE_ENTRY__INIT;
	mie.name = name.data();
	mie.uid = p.st.st_uid;
	mie.gid = p.st.st_gid;
	mie.size = uint64_t(p.st.st_size);
	mie.shmid = uint32_t(p.st.st_ino);
	mie.inode_id = id;
	mie.hugetlb_flag = TRY(hugetlb_flag(fd.borrow(), p.proc_path));
	mie.has_hugetlb_flag = mie.hugetlb_flag != 0;
	int seals = fcntl(fd.get(), F_GET_SEALS);
	if (seals < 0)
		return fail_errno("{}: F_GET_SEALS of {}", p.what(), p.proc_path);
	mie.seals = uint32_t(seals);

	uint64_t pages = TRY_CTX(dump_shmem_pages(fd.borrow(), p.proc_path, 0, mie.size, mie.shmid, *dir_,
						  kMemfdPagesIdBase + id),
				 "memfd:{} of {}", name, p.what());
	pr_info("Dumped memfd:{} (id {:#x}, shmid {:#x}, size {}, seals {:#x}): {} pages", name, id, mie.shmid,
		mie.size, mie.seals, pages);
	if (!inodes_)
		inodes_.emplace(TRY(dir_->create_image(img::Kind::MemfdInode)));
	TRY_CTX(inodes_->write(mie.base), "{}", inodes_->name());
	inode_ids_[key] = id;
	return id;
}

Result<> MemfdDumper::dump(const FdParms &p, uint32_t id)
{
	FownEntry fown = FOWN_ENTRY__INIT;
	MemfdFileEntry mfe = MEMFD_FILE_ENTRY__INIT;
	mfe.id = id;
	mfe.flags = p.flags;
	mfe.pos = p.pos;
	mfe.fown = &fown;
	mfe.inode_id = TRY(dump_inode(p));
	FileEntry fe = FILE_ENTRY__INIT;
	fe.type = FD_TYPES__MEMFD;
	fe.id = id;
	fe.memfd = &mfe;
	return files_->write(fe.base);
}

Result<> MemfdDumper::close()
{
	if (!inodes_)
		return {};
	return inodes_->close();
}

// ---- restore ----

Result<MemfdTable> MemfdTable::load(ImageDir &dir)
{
	MemfdTable t;
	t.dir_ = &dir;
	auto r = TRY(dir.open_image_optional(img::Kind::MemfdInode));
	if (!r)
		return t;
	while (auto m = TRY(r->read())) {
		const auto *mie = pb_cast<MemfdInodeEntry>(*m);
		if (mie->inode_id > UINT32_MAX || !mie->name)
			return fail(EINVAL, "{}: bad inode entry {:#x}", r->name(), mie->inode_id);
		uint32_t id = uint32_t(mie->inode_id);
		if (!t.inodes_.emplace(id, std::move(*m)).second)
			return fail(EINVAL, "{}: inode {:#x} appears twice", r->name(), id);
	}
	return t;
}

Result<> MemfdTable::check(const MemfdFileEntry &mfe) const
{
	if (!inodes_.contains(mfe.inode_id))
		return fail(EINVAL, "memfd file {:#x}: no inode {:#x} in memfd.img", mfe.id, mfe.inode_id);
	return {};
}

Result<> MemfdTable::fill(BorrowedFd fd, const MemfdInodeEntry &mie) const
{
	if (mie.size == 0)
		return {};
	void *p = mmap(nullptr, mie.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
	if (p == MAP_FAILED)
		return fail_errno("can't map memfd:{} ({} bytes)", mie.name, mie.size);
	uint64_t len = (mie.size + kPageSize - 1) & ~uint64_t(kPageSize - 1);
	auto r = restore_shmem_pages(*dir_, mie.shmid, static_cast<uint8_t *>(p), 0, len);
	munmap(p, mie.size);
	return r;
}

Result<UniqueFd> MemfdTable::create(const MemfdInodeEntry &mie) const
{
	unsigned flags = MFD_CLOEXEC;
	if (mie.seals != F_SEAL_SEAL) // a memfd made without MFD_ALLOW_SEALING shows just F_SEAL_SEAL
		flags |= MFD_ALLOW_SEALING;
	if (mie.has_hugetlb_flag)
		flags |= mie.hugetlb_flag;
	UniqueFd fd(memfd_create(mie.name, flags));
	if (!fd)
		return fail_errno("can't create memfd:{}", mie.name);
	if (ftruncate(fd.get(), off_t(mie.size)))
		return fail_errno("can't size memfd:{} to {}", mie.name, mie.size);
	TRY_CTX(fill(fd.borrow(), mie), "memfd:{}", mie.name);
	if (fchown(fd.get(), mie.uid, mie.gid))
		return fail_errno("can't give memfd:{} to {}:{}", mie.name, mie.uid, mie.gid);
	pr_info("Restored memfd:{} (inode {:#x}, {} bytes)", mie.name, mie.inode_id, mie.size);
	return fd;
}

Result<> MemfdTable::create_all(int above) const
{
	fd_floor_ = std::max(fd_floor_, above + 1);
	for (const auto &[id, m] : inodes_) {
		if (fds_.contains(id))
			continue;
		UniqueFd created = TRY(create(*pb_cast<MemfdInodeEntry>(m)));
		UniqueFd hidden(fcntl(created.get(), F_DUPFD_CLOEXEC, fd_floor_));
		struct stat st;
		if (!hidden || fstat(hidden.get(), &st))
			return fail_errno("can't keep memfd inode {:#x} open above fd {}", id, above);
		pr_debug("memfd inode {:#x} on fd {}", id, hidden.get());
		fds_.emplace(id, Created{std::move(hidden), uint64_t(st.st_ino)});
	}
	return {};
}

// The hidden fd of the inode's memfd (create_all made it, here or in an ancestor).
Result<int> MemfdTable::hidden_fd(uint32_t inode_id) const
{
	auto it = fds_.find(inode_id);
	if (it == fds_.end())
		return fail(ENOENT, "memfd inode {:#x} was not made before the tasks were forked", inode_id);
	struct stat st;
	if (fstat(it->second.fd.get(), &st) || st.st_ino != it->second.ino)
		return fail(EBADF, "memfd inode {:#x}: its fd {} was closed", inode_id, it->second.fd.get());
	return it->second.fd.get();
}

Result<UniqueFd> MemfdTable::open(const MemfdFileEntry &mfe, int flags, bool seek) const
{
	TRY(check(mfe));
	int hidden = TRY(hidden_fd(mfe.inode_id));
	UniqueFd fd = TRY(xio::open(fmt::format("/proc/self/fd/{}", hidden), reopen_flags(uint32_t(flags))));
	if (seek && lseek(fd.get(), off_t(mfe.pos), SEEK_SET) < 0)
		return fail_errno("can't seek memfd file {:#x} to {}", mfe.id, mfe.pos);
	return fd;
}

Result<> MemfdTable::keep_fds_from(int fd) const
{
	fd_floor_ = fd;
	for (auto &[id, created] : fds_) {
		if (created.fd.get() >= fd)
			continue;
		int moved = fcntl(created.fd.get(), F_DUPFD_CLOEXEC, fd);
		if (moved < 0)
			return fail_errno("can't move memfd inode {:#x} above fd {}", id, fd);
		created.fd.reset(moved);
	}
	return {};
}

Result<> MemfdTable::seal_all() const
{
	for (const auto &[id, created] : fds_) {
		const auto &mie = *pb_cast<MemfdInodeEntry>(inodes_.at(id));
		int has = fcntl(created.fd.get(), F_GET_SEALS);
		if (has < 0)
			return fail_errno("can't read the seals of memfd:{}", mie.name);
		uint32_t missing = mie.seals & ~uint32_t(has);
		if (missing && fcntl(created.fd.get(), F_ADD_SEALS, int(missing)) < 0)
			return fail_errno("can't seal memfd:{} with {:#x}", mie.name, missing);
		if (missing)
			pr_debug("memfd:{} sealed with {:#x}", mie.name, missing);
	}
	return {};
}

} // namespace criu
