// fanotify groups, dump and restore (see fsnotify.h).
#define LOG_PREFIX "fsnotify: "
#include <fcntl.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <deque>
#include <sstream>
#include <vector>

#include "anon-inode.h"
#include "common/log.h"
#include "common/xio.h"
#include "fdinfo.pb-c.h"
#include "files-reg.h"
#include "fsnotify.h"

namespace criu {

namespace {

// FAN_OPEN_PERM | FAN_ACCESS_PERM | FAN_OPEN_EXEC_PERM | FAN_PRE_ACCESS: answering them is the
// listener's job, and a restored group would hold events nobody knows about.
constexpr uint32_t kPermEvents = 0x00010000 | 0x00020000 | 0x00040000 | 0x00100000;
#ifndef FAN_MARK_IGNORE
constexpr unsigned kMarkIgnore = 0x00000400;
#else
constexpr unsigned kMarkIgnore = FAN_MARK_IGNORE;
#endif

struct Mark {
	FanotifyMarkEntry m = FANOTIFY_MARK_ENTRY__INIT;
	FanotifyInodeMarkEntry ie = FANOTIFY_INODE_MARK_ENTRY__INIT;
	FanotifyMountMarkEntry me = FANOTIFY_MOUNT_MARK_ENTRY__INIT;
	FhEntry fh = FH_ENTRY__INIT;
	uint64_t words[kHandleWords] = {};
	std::string path;
};

// A mountinfo field with its octal escapes ("\\040" for a space) decoded.
std::string unescape(const std::string &s)
{
	std::string out;
	for (size_t i = 0; i < s.size(); i++) {
		if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(s[i + 1])) {
			out += char(std::stoi(s.substr(i + 1, 3), nullptr, 8));
			i += 3;
		} else {
			out += s[i];
		}
	}
	return out;
}

// Mount point and device (kernel-encoded) of mount mnt_id of pid, from /proc/PID/mountinfo.
Result<> find_mount(const FdParms &p, Mark &k)
{
	std::string mounts = TRY(xio::read_file(fmt::format("/proc/{}/mountinfo", p.pid)));
	std::istringstream in(mounts);
	for (std::string line; std::getline(in, line);) {
		std::istringstream f(line);
		std::string id, parent, dev, root, point;
		f >> id >> parent >> dev >> root >> point;
		if (id != std::to_string(k.me.mnt_id))
			continue;
		unsigned maj = 0, min = 0;
		if (std::sscanf(dev.c_str(), "%u:%u", &maj, &min) == 2)
			k.m.s_dev = maj << 20 | min;
		k.path = unescape(point);
		return {};
	}
	return fail(ENOENT, "{}: fanotify mount mark on mount {}, not in /proc/{}/mountinfo", p.what(), k.me.mnt_id,
		    p.pid);
}

// One "fanotify ino:..." or "fanotify mnt_id:..." line of fdinfo (hex numbers) into k.
Result<> parse_mark(const FdParms &p, const std::string &line, Mark &k)
{
	k.m.mflags = uint32_t(fdinfo_field(line, "mflags:", 16));
	k.m.mask = uint32_t(fdinfo_field(line, " mask:", 16));
	k.m.ignored_mask = uint32_t(fdinfo_field(line, "ignored_mask:", 16));
	if ((k.m.mask | k.m.ignored_mask) & kPermEvents)
		return fail(ENOTSUP, "{}: fanotify permission events (mask {:#x}) are not supported", p.what(),
			    k.m.mask);
	if (line.starts_with("fanotify mnt_id:")) {
		k.m.type = MARK_TYPE__MOUNT;
		k.me.mnt_id = uint32_t(fdinfo_field(line, "mnt_id:", 16));
		TRY(find_mount(p, k));
		k.m.me = &k.me;
		return {};
	}
	k.m.type = MARK_TYPE__INODE;
	k.m.s_dev = uint32_t(fdinfo_field(line, "sdev:", 16));
	k.ie.i_ino = fdinfo_field(line, "ino:", 16);
	k.fh.bytes = uint32_t(fdinfo_field(line, "fhandle-bytes:", 16));
	k.fh.type = uint32_t(fdinfo_field(line, "fhandle-type:", 16));
	if (!has_fdinfo_field(line, "f_handle:"))
		return fail(ENOTSUP, "{}: fanotify inode mark without a file handle: \"{}\"", p.what(), line);
	TRY_CTX(parse_fhandle(line, k.fh, k.words), "{}", p.what());
	k.m.ie = &k.ie;
	return {};
}

Result<> parse_marks(const FdParms &p, const std::string &info, uint32_t id, std::deque<Mark> &out)
{
	std::istringstream in(info);
	for (std::string line; std::getline(in, line);) {
		if (line.starts_with("fanotify sdev:"))
			return fail(ENOTSUP, "{}: fanotify filesystem marks (FAN_MARK_FILESYSTEM) are not supported",
				    p.what());
		if (!line.starts_with("fanotify ino:") && !line.starts_with("fanotify mnt_id:"))
			continue;
		Mark &k = out.emplace_back();
		k.m.id = id;
		TRY(parse_mark(p, line, k));
	}
	return {};
}

} // namespace

Result<> dump_fanotify(ImageWriter &files, const FdParms &p, uint32_t id)
{
	std::string info = TRY(read_fdinfo(p));
	size_t at = info.find("fanotify flags:");
	if (at == info.npos)
		return fail(EINVAL, "{}: no \"fanotify flags:\" in its fdinfo", p.what());
	std::string head = info.substr(at, info.find('\n', at) - at);
	FanotifyFileEntry ffe = FANOTIFY_FILE_ENTRY__INIT;
	ffe.faflags = uint32_t(fdinfo_field(head, "flags:", 16));
	ffe.evflags = uint32_t(fdinfo_field(head, "event-flags:", 16));
	std::deque<Mark> marks; // stable addresses: entries point into each other
	TRY(parse_marks(p, info, id, marks));
	pr_info("Dumping fanotify {:#x}: flags {:#x}, event flags {:#x}, {} marks\n", id, ffe.faflags, ffe.evflags,
		marks.size());
	std::vector<FanotifyMarkEntry *> ptrs;
	for (Mark &k : marks) {
		if (k.m.ie) {
			k.fh.n_handle = kHandleWords;
			k.fh.handle = k.words;
			k.ie.f_handle = &k.fh;
		} else {
			k.me.path = k.path.data();
		}
		ptrs.push_back(&k.m);
		pr_info("Dumping fanotify mark ({} {:#x}, mflags {:#x}, mask {:#x}, ignored {:#x}) of id {:#x}\n",
			k.m.ie ? "inode" : "mount", k.m.ie ? k.ie.i_ino : k.me.mnt_id, k.m.mflags, k.m.mask,
			k.m.ignored_mask, id);
	}
	FownEntry fown = FOWN_ENTRY__INIT;
	ffe.id = id;
	ffe.flags = p.flags;
	ffe.fown = &fown;
	ffe.n_mark = ptrs.size();
	ffe.mark = ptrs.data();
	FileEntry fe = FILE_ENTRY__INIT;
	fe.type = FD_TYPES__FANOTIFY;
	fe.id = id;
	fe.ffy = &ffe;
	return files.write(fe.base);
}

namespace {

// fanotify_mark(FAN_MARK_ADD | flags, mask) on target (an O_PATH fd) or path.
Result<> add_mark(int fan, unsigned flags, uint32_t mask, int target, const char *path)
{
	if (!mask)
		return {};
	std::string proc = target >= 0 ? fmt::format("/proc/self/fd/{}", target) : "";
	if (fanotify_mark(fan, FAN_MARK_ADD | flags, mask, AT_FDCWD, target >= 0 ? proc.c_str() : path) < 0)
		return fail_errno("fanotify_mark(ADD | {:#x}, {:#x})", flags, mask);
	return {};
}

Result<> restore_mark(int fan, const FanotifyMarkEntry &m)
{
	UniqueFd target;
	const char *path = nullptr;
	unsigned kind = 0;
	if (m.type == MARK_TYPE__INODE && m.ie && m.ie->f_handle) {
		target = TRY(open_fhandle(*m.ie->f_handle, m.s_dev, m.ie->i_ino));
	} else if (m.type == MARK_TYPE__MOUNT && m.me && m.me->path) {
		path = m.me->path;
		kind = FAN_MARK_MOUNT;
	} else {
		return fail(EINVAL, "fanotify mark of type {} without its inode or mount entry", int(m.type));
	}
	unsigned keep = m.mflags & ~(FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORED_SURV_MODIFY | kMarkIgnore);
	TRY(add_mark(fan, kind | keep, m.mask, target.get(), path));
	unsigned ign = (m.mflags & kMarkIgnore ? kMarkIgnore : FAN_MARK_IGNORED_MASK) |
		       (m.mflags & FAN_MARK_IGNORED_SURV_MODIFY);
	TRY(add_mark(fan, kind | keep | ign, m.ignored_mask, target.get(), path));
	pr_info("Restored fanotify {} mark mflags {:#x} mask {:#x} ignored {:#x}\n",
		kind ? "mount" : "inode", m.mflags, m.mask, m.ignored_mask);
	return {};
}

} // namespace

Result<UniqueFd> open_fanotify(const FanotifyFileEntry &e)
{
	unsigned flags = (e.faflags & ~unsigned(FAN_CLOEXEC | FAN_NONBLOCK)) | FAN_CLOEXEC |
			 (e.flags & O_NONBLOCK ? FAN_NONBLOCK : 0);
	UniqueFd fd(fanotify_init(flags, e.evflags));
	if (!fd)
		return fail_errno("can't create fanotify {:#x} (flags {:#x}, event flags {:#x})", e.id, flags,
				  e.evflags);
	for (size_t i = 0; i < e.n_mark; i++)
		TRY_CTX(restore_mark(fd.get(), *e.mark[i]), "fanotify {:#x}", e.id);
	return fd;
}

} // namespace criu
