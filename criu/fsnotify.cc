// inotify instances, dump and restore (see fsnotify.h).
#define LOG_PREFIX "fsnotify: "
#include "fsnotify.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <sstream>
#include <vector>

#include "anon-inode.h"
#include "common/log.h"
#include "common/xio.h"
#include "fdinfo.pb-c.h"
#include "fh.pb-c.h"
#include "files-reg.h"

namespace criu {

namespace {

// <linux/inotify.h>'s, which can't be included with <sys/inotify.h>.
constexpr unsigned long kInotifyIocSetNextWd = _IOW('I', 0, int32_t);

struct Watch {
	InotifyWdEntry wd = INOTIFY_WD_ENTRY__INIT;
	FhEntry fh = FH_ENTRY__INIT;
	uint64_t words[kHandleWords] = {};
};

// "inotify wd:1 ino:3c51a sdev:fe00000 mask:100 ignored_mask:0 fhandle-bytes:8 fhandle-type:1
//  f_handle:1ac5030000000000", every number in hex.
Result<std::vector<Watch>> parse_watches(const FdParms &p, const std::string &info, uint32_t id)
{
	std::vector<Watch> out;
	std::istringstream in(info);
	for (std::string line; std::getline(in, line);) {
		if (!line.starts_with("inotify wd:"))
			continue;
		Watch &w = out.emplace_back();
		w.wd.id = id;
		w.wd.wd = uint32_t(fdinfo_field(line, "wd:", 16));
		w.wd.i_ino = fdinfo_field(line, "ino:", 16);
		w.wd.s_dev = uint32_t(fdinfo_field(line, "sdev:", 16));
		w.wd.mask = uint32_t(fdinfo_field(line, " mask:", 16));
		w.wd.ignored_mask = uint32_t(fdinfo_field(line, "ignored_mask:", 16));
		w.fh.bytes = uint32_t(fdinfo_field(line, "fhandle-bytes:", 16));
		w.fh.type = uint32_t(fdinfo_field(line, "fhandle-type:", 16));
		TRY_CTX(parse_fhandle(line, w.fh, w.words), "{}", p.what());
	}
	return out;
}

} // namespace

Result<> dump_inotify(ImageWriter &files, const FdParms &p, uint32_t id)
{
	std::string info = TRY(read_fdinfo(p));
	std::vector<Watch> watches = TRY(parse_watches(p, info, id));
	std::vector<InotifyWdEntry *> ptrs;
	for (Watch &w : watches) {
		w.fh.n_handle = kHandleWords;
		w.fh.handle = w.words;
		w.wd.f_handle = &w.fh;
		ptrs.push_back(&w.wd);
		pr_info("Dumping inotify wd {} (inode {:#x}, sdev {:#x}, mask {:#x}) of id {:#x}\n", w.wd.wd, w.wd.i_ino,
			w.wd.s_dev, w.wd.mask, id);
	}
	FownEntry fown = FOWN_ENTRY__INIT;
	InotifyFileEntry ife = INOTIFY_FILE_ENTRY__INIT;
	ife.id = id;
	ife.flags = p.flags;
	ife.fown = &fown;
	ife.n_wd = ptrs.size();
	ife.wd = ptrs.data();
	FileEntry fe = FILE_ENTRY__INIT;
	fe.type = FD_TYPES__INOTIFY;
	fe.id = id;
	fe.ify = &ife;
	return files.write(fe.base);
}

namespace {

Result<> add_watch(int ifd, const InotifyWdEntry &w)
{
	UniqueFd target = TRY_CTX(open_fhandle(*w.f_handle, w.s_dev, w.i_ino), "watch {}", w.wd);
	std::string path = fmt::format("/proc/self/fd/{}", target.get());
	if (ioctl(ifd, kInotifyIocSetNextWd, int(w.wd)) < 0)
		return fail_errno("INOTIFY_IOC_SETNEXTWD {}", w.wd);
	uint32_t mask = w.mask & (IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK);
	int wd = inotify_add_watch(ifd, path.c_str(), mask);
	if (wd < 0)
		return fail_errno("can't add watch {} (mask {:#x}) on inode {:#x}", w.wd, mask, w.i_ino);
	if (uint32_t(wd) != w.wd)
		return fail(EEXIST, "watch on inode {:#x} came back as wd {}, not {}", w.i_ino, wd, w.wd);
	pr_info("Restored wd {} mask {:#x} on inode {:#x}\n", wd, mask, w.i_ino);
	return {};
}

} // namespace

// ---- shared with fanotify (fsnotify.h) ----

Result<> parse_fhandle(std::string_view line, FhEntry &fh, uint64_t (&words)[kHandleWords])
{
	size_t at = line.find("f_handle:");
	if (at == line.npos || fh.bytes > sizeof(words))
		return fail(EINVAL, "bad fsnotify mark line \"{}\"", line);
	std::string_view hex = line.substr(at + 9);
	uint8_t bytes[sizeof(words)] = {};
	for (size_t i = 0; i < fh.bytes; i++) {
		if (hex.size() < 2 * i + 2 || !std::isxdigit(hex[2 * i]) || !std::isxdigit(hex[2 * i + 1]))
			return fail(EINVAL, "short f_handle in \"{}\"", line);
		bytes[i] = uint8_t(std::stoul(std::string(hex.substr(2 * i, 2)), nullptr, 16));
	}
	std::memcpy(words, bytes, sizeof(bytes));
	return {};
}

namespace {

// A mount of the filesystem whose (kernel-encoded) device is s_dev, opened for
// open_by_handle_at.
Result<UniqueFd> open_mount_of(uint32_t s_dev)
{
	std::string want = fmt::format("{}:{}", s_dev >> 20, s_dev & 0xfffff);
	std::string mounts = TRY(xio::read_file("/proc/self/mountinfo"));
	std::istringstream in(mounts);
	for (std::string line; std::getline(in, line);) {
		std::istringstream f(line);
		std::string id, parent, dev, root, point;
		f >> id >> parent >> dev >> root >> point;
		if (dev == want)
			return TRY(xio::open(point, O_RDONLY | O_CLOEXEC));
	}
	return fail(ENOENT, "no mount of device {} (sdev {:#x}) in /proc/self/mountinfo", want, s_dev);
}

} // namespace

Result<UniqueFd> open_fhandle(const FhEntry &fh, uint32_t s_dev, uint64_t ino)
{
	if (fh.bytes > fh.n_handle * sizeof(uint64_t))
		return fail(EINVAL, "f_handle of {} bytes in {} words", fh.bytes, fh.n_handle);
	std::vector<uint8_t> buf(sizeof(struct file_handle) + fh.n_handle * sizeof(uint64_t));
	auto *h = reinterpret_cast<struct file_handle *>(buf.data());
	h->handle_bytes = fh.bytes;
	h->handle_type = int(fh.type);
	std::memcpy(h->f_handle, fh.handle, fh.n_handle * sizeof(uint64_t));
	UniqueFd mnt = TRY(open_mount_of(s_dev));
	UniqueFd fd(open_by_handle_at(mnt.get(), h, O_PATH | O_CLOEXEC));
	if (!fd)
		return fail_errno("can't open the inode {:#x} by its handle", ino);
	return fd;
}

Result<UniqueFd> open_inotify(const InotifyFileEntry &e)
{
	for (size_t i = 0; i < e.n_wd; i++)
		if (!e.wd[i]->f_handle)
			return fail(EINVAL, "inotify {:#x}: watch {} without a file handle", e.id, e.wd[i]->wd);
	UniqueFd fd(inotify_init1(IN_CLOEXEC | (e.flags & O_NONBLOCK ? IN_NONBLOCK : 0)));
	if (!fd)
		return fail_errno("can't create inotify {:#x}", e.id);
	std::vector<const InotifyWdEntry *> wds(e.wd, e.wd + e.n_wd);
	std::sort(wds.begin(), wds.end(), [](auto *a, auto *b) { return a->wd < b->wd; });
	for (const InotifyWdEntry *w : wds)
		TRY_CTX(add_watch(fd.get(), *w), "inotify {:#x}", e.id);
	return fd;
}

} // namespace criu
