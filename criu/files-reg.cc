// Regular files, directories and memory devices: dump side (REG entries, ghost files of files
// deleted while open) and restore side (open by path, recreate ghosts).
#define LOG_PREFIX "files-reg: "
#include "files-reg.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "common/log.h"
#include "common/xio.h"
#include "fdinfo.pb-c.h"
#include "ghost-file.pb-c.h"
#include "remap-file-path.pb-c.h"
#include "time.pb-c.h"

namespace criu {

namespace {

constexpr std::string_view kDeleted = " (deleted)";
// Tiny ghost files are stored whole; larger ones as chunks, so holes stay holes (as CRIU).
constexpr uint64_t kGhostChunksThresh = 3 * 4096;
constexpr size_t kCopyBuf = 1 << 16;

bool strip_deleted(std::string &path)
{
	if (path.size() < kDeleted.size() || !path.ends_with(kDeleted))
		return false;
	path.resize(path.size() - kDeleted.size());
	return true;
}

// CRIU skips the size check for O_WRONLY|O_APPEND files (logs), which may grow meanwhile.
bool should_check_size(uint32_t flags)
{
	return !((flags & O_ACCMODE) == O_WRONLY && (flags & O_APPEND));
}

// The file must still be reachable by its name, or restore could not open it.
Result<> check_path(const FdParms &p, const std::string &path)
{
	struct stat st;
	if (stat(path.c_str(), &st) < 0) {
		if (errno == ENOENT)
			return fail(ENOENT, "{}: {} has no name any more but still has links "
					    "(link remaps are not supported yet)", p.what(), path);
		return fail_errno("{}: can't stat {}", p.what(), path);
	}
	if (st.st_dev != p.st.st_dev || st.st_ino != p.st.st_ino)
		return fail(EXDEV, "{}: {} now names another file ({}:{}, the open one is {}:{})", p.what(), path,
			    uint64_t(st.st_dev), uint64_t(st.st_ino), uint64_t(p.st.st_dev), uint64_t(p.st.st_ino));
	return {};
}

Result<> copy_range(int fd, ImageWriter &w, uint64_t off, uint64_t len)
{
	std::vector<uint8_t> buf(std::min<uint64_t>(len, kCopyBuf));
	while (len > 0) {
		size_t n = std::min<uint64_t>(len, buf.size());
		size_t got = TRY(xio::pread_full(BorrowedFd(fd), std::as_writable_bytes(std::span(buf.data(), n)),
						 off_t(off)));
		if (got != n)
			return fail(EIO, "file shrank while being copied ({} bytes missing at {})", n - got, off);
		TRY(w.write_raw(std::span(buf.data(), n)));
		off += n;
		len -= n;
	}
	return {};
}

// Data extents with SEEK_DATA/SEEK_HOLE, each as ghost_chunk_entry + data.
Result<> copy_chunks(int fd, ImageWriter &w, uint64_t size)
{
	uint64_t hole = 0;
	while (hole < size) {
		off_t data = lseek(fd, off_t(hole), SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0)
			return fail_errno("SEEK_DATA at {}", hole);
		off_t end = lseek(fd, data, SEEK_HOLE);
		if (end < 0)
			return fail_errno("SEEK_HOLE at {}", data);
		end = std::min<off_t>(end, off_t(size));
		GhostChunkEntry ce = GHOST_CHUNK_ENTRY__INIT;
		ce.off = uint64_t(data);
		ce.len = uint64_t(end - data);
		TRY(w.write(ce.base));
		TRY(copy_range(fd, w, ce.off, ce.len));
		hole = uint64_t(end);
	}
	return {};
}

} // namespace

Result<UniqueFd> steal_fd(const FdParms &p)
{
	UniqueFd pidfd(int(syscall(SYS_pidfd_open, p.pid, 0)));
	if (!pidfd)
		return fail_errno("{}: can't pidfd_open {}", p.what(), p.pid);
	UniqueFd fd(int(syscall(SYS_pidfd_getfd, pidfd.get(), p.fd, 0)));
	if (!fd)
		return fail_errno("{}: can't pidfd_getfd it", p.what());
	return fd;
}

std::string FdParms::what() const
{
	if (fd >= 0)
		return fmt::format("fd {} of {}", fd, pid);
	return fmt::format("{} of {}", proc_path.substr(proc_path.rfind('/') + 1), pid);
}

int reopen_flags(uint32_t flags)
{
	return int(flags) & ~(O_CLOEXEC | O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY);
}

Result<> RegFileDumper::dump(const FdParms &p, uint32_t id)
{
	std::string path = p.link;
	// No links left: the kernel has appended " (deleted)" and only the contents can be kept.
	bool deleted = p.st.st_nlink == 0 && strip_deleted(path);
	if (path.empty() || path[0] != '/')
		return fail(ENOTSUP, "{}: the path [{}] is not supported", p.what(), p.link);
	if (deleted)
		TRY(dump_ghost(p, path, id));
	else if (!S_ISCHR(p.st.st_mode))
		TRY(check_path(p, path));

	FownEntry fown = FOWN_ENTRY__INIT;
	RegFileEntry rfe = REG_FILE_ENTRY__INIT;
	rfe.id = id;
	rfe.flags = p.flags;
	rfe.pos = p.pos;
	rfe.fown = &fown;
	rfe.name = path.data();
	rfe.has_mode = true;
	rfe.mode = p.st.st_mode;
	if (S_ISREG(p.st.st_mode) && should_check_size(p.flags)) {
		rfe.has_size = true;
		rfe.size = uint64_t(p.st.st_size);
	}
	FileEntry fe = FILE_ENTRY__INIT;
	fe.type = FD_TYPES__REG;
	fe.id = id;
	fe.reg = &rfe;
	pr_info("Dumping path for {} [{}] id {:#x} flags {:#o} pos {}\n", p.what(), path, id, p.flags, p.pos);
	return files_->write(fe.base);
}

Result<> RegFileDumper::dump_ghost(const FdParms &p, const std::string &path, uint32_t id)
{
	if (!S_ISREG(p.st.st_mode))
		return fail(ENOTSUP, "{}: deleted {} is not a regular file (mode {:o}): not supported yet", p.what(),
			    path, p.st.st_mode);
	uint64_t allocated = uint64_t(p.st.st_blocks) * 512;
	if (allocated > ghost_limit_)
		return fail(EFBIG, "{}: can't dump ghost file {} of {} bytes, increase --ghost-limit ({})", p.what(),
			    path, allocated, ghost_limit_);
	auto key = std::make_pair(uint64_t(p.st.st_dev), uint64_t(p.st.st_ino));
	auto it = ghosts_.find(key);
	uint32_t ghost_id = it != ghosts_.end() ? it->second : TRY(write_ghost_file(p, path));
	ghosts_[key] = ghost_id;

	if (!remaps_)
		remaps_.emplace(TRY(dir_->create_image(img::Kind::RemapFpath)));
	RemapFilePathEntry rpe = REMAP_FILE_PATH_ENTRY__INIT;
	rpe.orig_id = id;
	rpe.remap_id = ghost_id;
	rpe.has_remap_type = true;
	rpe.remap_type = REMAP_TYPE__GHOST;
	return remaps_->write(rpe.base);
}

Result<uint32_t> RegFileDumper::write_ghost_file(const FdParms &p, const std::string &path)
{
	uint32_t gid = next_ghost_id_++;
	pr_info("Dumping ghost file {} for {} (id {:#x})\n", path, p.what(), gid);
	auto w = TRY(dir_->create_image(img::Kind::GhostFile, gid));
	GhostFileEntry gfe = GHOST_FILE_ENTRY__INIT;
	Timeval atim = TIMEVAL__INIT, mtim = TIMEVAL__INIT;
	gfe.uid = p.st.st_uid;
	gfe.gid = p.st.st_gid;
	gfe.mode = p.st.st_mode;
	gfe.has_dev = gfe.has_ino = true;
	gfe.dev = uint32_t(p.st.st_dev);
	gfe.ino = p.st.st_ino;
	atim.tv_sec = uint64_t(p.st.st_atim.tv_sec);
	atim.tv_usec = uint64_t(p.st.st_atim.tv_nsec / 1000);
	mtim.tv_sec = uint64_t(p.st.st_mtim.tv_sec);
	mtim.tv_usec = uint64_t(p.st.st_mtim.tv_nsec / 1000);
	gfe.atim = &atim;
	gfe.mtim = &mtim;
	uint64_t size = uint64_t(p.st.st_size);
	if (size >= kGhostChunksThresh) {
		gfe.has_chunks = gfe.chunks = true;
		gfe.has_size = true;
		gfe.size = size;
	}
	TRY(w.write(gfe.base));
	// Our own open of the file: the task's fd may be write-only.
	auto fd = TRY_CTX(xio::open(p.proc_path, O_RDONLY), "{}: ghost file {}", p.what(), path);
	if (gfe.chunks)
		TRY_CTX(copy_chunks(fd.get(), w, size), "{}: {}", w.name(), path);
	else
		TRY_CTX(copy_range(fd.get(), w, 0, size), "{}: {}", w.name(), path);
	TRY(w.close());
	return gid;
}

Result<> RegFileDumper::close()
{
	if (remaps_)
		TRY(remaps_->close());
	return {};
}

// ---- restore side ----

namespace {

Result<GhostFile> load_ghost(ImageDir &dir, uint32_t remap_id)
{
	auto r = TRY(dir.open_image(img::Kind::GhostFile, remap_id));
	auto m = TRY(r.read());
	if (!m)
		return fail(EINVAL, "{}: no ghost_file_entry", r.name());
	const auto *gfe = pb_cast<GhostFileEntry>(*m);
	GhostFile g{remap_id, gfe->uid, gfe->gid, gfe->mode, std::nullopt, 0, {}};
	if (!S_ISREG(gfe->mode))
		return fail(ENOTSUP, "{}: ghost of mode {:o} is not supported yet", r.name(), gfe->mode);
	if (gfe->atim && gfe->mtim)
		g.times = std::make_pair(timespec{time_t(gfe->atim->tv_sec), long(gfe->atim->tv_usec * 1000)},
					 timespec{time_t(gfe->mtim->tv_sec), long(gfe->mtim->tv_usec * 1000)});
	if (!gfe->chunks) {
		Bytes all;
		TRY(r.read_raw_to_end(all));
		g.size = all.size();
		g.data.emplace_back(0, std::move(all));
		return g;
	}
	if (!gfe->has_size)
		return fail(EINVAL, "{}: chunked ghost without a size", r.name());
	g.size = gfe->size;
	while (auto c = TRY(r.read(&ghost_chunk_entry__descriptor))) {
		const auto *ce = pb_cast<GhostChunkEntry>(*c);
		if (ce->off > gfe->size || ce->len > gfe->size - ce->off)
			return fail(EINVAL, "{}: chunk {}+{} beyond the file's {} bytes", r.name(), ce->off, ce->len,
				    gfe->size);
		std::vector<uint8_t> bytes(ce->len);
		TRY(r.read_raw(bytes));
		g.data.emplace_back(ce->off, std::move(bytes));
	}
	return g;
}

Result<> pwrite_full(int fd, std::span<const uint8_t> data, uint64_t off)
{
	while (!data.empty()) {
		ssize_t n = pwrite(fd, data.data(), data.size(), off_t(off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail_errno("can't write {} bytes at {}", data.size(), off);
		data = data.subspan(size_t(n));
		off += uint64_t(n);
	}
	return {};
}

Result<UniqueFd> create_at(const std::string &path, uint32_t mode)
{
	int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
	if (fd < 0)
		return fail_errno("can't create ghost file {}", path);
	return UniqueFd(fd);
}

} // namespace

Result<RegFileOpener> RegFileOpener::load(ImageDir &dir)
{
	RegFileOpener o;
	auto r = TRY(dir.open_image_optional(img::Kind::RemapFpath));
	if (!r)
		return o;
	while (auto m = TRY(r->read())) {
		const auto *rpe = pb_cast<RemapFilePathEntry>(*m);
		if (!rpe->has_remap_type || rpe->remap_type != REMAP_TYPE__GHOST)
			return fail(ENOTSUP, "{}: remap of file {:#x} is of type {}: not supported yet", r->name(),
				    rpe->orig_id, int(rpe->remap_type));
		o.remaps_[rpe->orig_id] = rpe->remap_id;
		if (!o.ghosts_.contains(rpe->remap_id))
			o.ghosts_.emplace(rpe->remap_id, TRY(load_ghost(dir, rpe->remap_id)));
	}
	return o;
}

Result<UniqueFd> RegFileOpener::open(const RegFileEntry &rfe, int flags, bool seek) const
{
	std::string path = rfe.name[0] == '/' ? rfe.name : std::string("/") + rfe.name;
	auto remap = remaps_.find(rfe.id);
	UniqueFd fd;
	if (remap != remaps_.end()) {
		fd = TRY_CTX(open_ghost(rfe, ghosts_.at(remap->second), flags), "ghost of {}", path);
	} else {
		int raw = ::open(path.c_str(), reopen_flags(uint32_t(flags)));
		if (raw < 0)
			return fail_errno("can't open {} (id {:#x}, flags {:#o})", path, rfe.id, flags);
		fd = UniqueFd(raw);
	}
	struct stat st;
	if (fstat(fd.get(), &st) < 0)
		return fail_errno("can't stat {}", path);
	if (rfe.has_mode && (st.st_mode & S_IFMT) != (rfe.mode & S_IFMT))
		return fail(EINVAL, "{} has mode {:o}, expected {:o}", path, st.st_mode, rfe.mode);
	if (rfe.has_size && S_ISREG(st.st_mode) && uint64_t(st.st_size) != rfe.size)
		return fail(EINVAL, "file {} has bad size {} (expect {})", path, uint64_t(st.st_size), rfe.size);
	if (seek && rfe.pos && lseek(fd.get(), off_t(rfe.pos), SEEK_SET) < 0)
		return fail_errno("can't seek {} to {}", path, rfe.pos);
	return fd;
}

Result<UniqueFd> RegFileOpener::open_ghost(const RegFileEntry &rfe, const GhostFile &g, int flags) const
{
	auto it = ghost_fds_.find(g.remap_id);
	if (it == ghost_fds_.end()) {
		UniqueFd created = TRY(create_ghost(rfe, g));
		int hidden = fcntl(created.get(), F_DUPFD_CLOEXEC, fd_floor_);
		if (hidden < 0)
			return fail_errno("can't keep ghost file {:#x} open", g.remap_id);
		it = ghost_fds_.emplace(g.remap_id, UniqueFd(hidden)).first;
	}
	return xio::open(fmt::format("/proc/self/fd/{}", it->second.get()), reopen_flags(uint32_t(flags)));
}

// At its own name when that is free (so /proc shows "<name> (deleted)" as before), else at
// CRIU's "<name>.cr.<id>.ghost"; filled, given its owner, mode and times, then unlinked.
Result<UniqueFd> RegFileOpener::create_ghost(const RegFileEntry &rfe, const GhostFile &g) const
{
	std::string path = rfe.name[0] == '/' ? rfe.name : std::string("/") + rfe.name;
	auto fd = create_at(path, g.mode);
	if (!fd && fd.error().code() == EEXIST) {
		path = fmt::format("{}.cr.{:x}.ghost", path, g.remap_id);
		fd = create_at(path, g.mode);
	}
	if (!fd)
		return std::unexpected(fd.error());
	pr_info("Created ghost file {} ({:#x}, {} bytes)\n", path, g.remap_id, g.size);
	auto done = [&]() -> Result<> {
		if (ftruncate(fd->get(), off_t(g.size)) < 0)
			return fail_errno("can't size ghost file {} to {}", path, g.size);
		for (const auto &[off, bytes] : g.data)
			TRY_CTX(pwrite_full(fd->get(), bytes, off), "ghost file {}", path);
		if (fchown(fd->get(), g.uid, g.gid) < 0 || fchmod(fd->get(), g.mode & 07777) < 0)
			return fail_errno("can't set owner/mode of ghost file {}", path);
		if (g.times) {
			struct timespec ts[2] = {g.times->first, g.times->second};
			if (futimens(fd->get(), ts) < 0)
				return fail_errno("can't set times of ghost file {}", path);
		}
		return {};
	}();
	if (unlink(path.c_str()) < 0 && done)
		return fail_errno("can't unlink ghost file {}", path);
	if (!done)
		return std::unexpected(done.error());
	return std::move(*fd);
}

Result<> RegFileOpener::keep_fds_from(int fd) const
{
	fd_floor_ = fd;
	for (auto &[id, hidden] : ghost_fds_) {
		if (hidden.get() >= fd)
			continue;
		int moved = fcntl(hidden.get(), F_DUPFD_CLOEXEC, fd);
		if (moved < 0)
			return fail_errno("can't move ghost file {:#x} above fd {}", id, fd);
		hidden.reset(moved);
	}
	return {};
}

} // namespace criu
