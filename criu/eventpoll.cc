// epoll instances, dump and restore (see eventpoll.h).
#define LOG_PREFIX "epoll: "
#include "eventpoll.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <set>
#include <sstream>
#include <vector>

#include "anon-inode.h"
#include "common/log.h"
#include "fdinfo.pb-c.h"
#include "files-reg.h"

namespace criu {

namespace {

struct Target {
	uint32_t tfd, events;
	uint64_t data, pos, ino;
	uint32_t sdev;
};

// "tfd:        3 events: 80000019 data:             1234  pos:0 ino:40e sdev:10"
std::vector<Target> parse_targets(const std::string &info)
{
	std::vector<Target> out;
	std::istringstream in(info);
	for (std::string line; std::getline(in, line);) {
		if (!line.starts_with("tfd:"))
			continue;
		Target t{};
		t.tfd = uint32_t(fdinfo_field(line, "tfd:", 10));
		t.events = uint32_t(fdinfo_field(line, "events:", 16));
		t.data = fdinfo_field(line, "data:", 16);
		t.pos = fdinfo_field(line, "pos:", 10);
		t.ino = fdinfo_field(line, "ino:", 16);
		t.sdev = uint32_t(fdinfo_field(line, "sdev:", 16));
		out.push_back(t);
	}
	return out;
}

// Is fd t.tfd of the task the file registered in its epoll epfd under that number?
Result<> check_target(const FdParms &p, const Target &t)
{
	struct kcmp_epoll_slot slot {};
	slot.efd = uint32_t(p.fd);
	slot.tfd = t.tfd;
	slot.toff = 0;
	long r = syscall(SYS_kcmp, p.pid, p.pid, KCMP_EPOLL_TFD, t.tfd, &slot);
	if (r == 0)
		return {};
	if (r < 0 && errno != EBADF && errno != ENOENT)
		return fail_errno("{}: kcmp(KCMP_EPOLL_TFD) of target fd {}", p.what(), t.tfd);
	return fail(ENOTSUP,
		    "{}: epoll target fd {} (inode {:#x}) is no longer open as that fd in the task (closed or "
		    "replaced after EPOLL_CTL_ADD): not supported",
		    p.what(), t.tfd, t.ino);
}

} // namespace

Result<> dump_eventpoll(ImageWriter &files, const FdParms &p, uint32_t id)
{
	std::string info = TRY(read_fdinfo(p));
	std::vector<Target> targets = parse_targets(info);
	std::vector<EventpollTfdEntry> tes(targets.size());
	std::vector<EventpollTfdEntry *> ptrs;
	std::set<uint32_t> seen;
	for (size_t i = 0; i < targets.size(); i++) {
		const Target &t = targets[i];
		if (!seen.insert(t.tfd).second)
			return fail(ENOTSUP, "{}: epoll target fd {} is registered twice (two files): not supported",
				    p.what(), t.tfd);
		TRY(check_target(p, t));
		EventpollTfdEntry &te = tes[i];
		te = EVENTPOLL_TFD_ENTRY__INIT;
		te.id = id;
		te.tfd = t.tfd;
		te.events = t.events;
		te.data = t.data;
		te.has_dev = te.has_inode = te.has_pos = true;
		te.dev = t.sdev;
		te.inode = t.ino;
		te.pos = t.pos;
		ptrs.push_back(&te);
		pr_info("Dumping eventpoll-tfd: id {:#x} tfd {} events {:#x} data {:#x}\n", id, t.tfd, t.events, t.data);
	}
	FownEntry fown = FOWN_ENTRY__INIT;
	EventpollFileEntry efe = EVENTPOLL_FILE_ENTRY__INIT;
	efe.id = id;
	efe.flags = p.flags;
	efe.fown = &fown;
	efe.n_tfd = ptrs.size();
	efe.tfd = ptrs.data();
	FileEntry fe = FILE_ENTRY__INIT;
	fe.type = FD_TYPES__EVENTPOLL;
	fe.id = id;
	fe.epfd = &efe;
	return files.write(fe.base);
}

Result<UniqueFd> open_eventpoll(const EventpollFileEntry &e)
{
	UniqueFd fd(epoll_create1(EPOLL_CLOEXEC));
	if (!fd)
		return fail_errno("can't create eventpoll {:#x}", e.id);
	TRY(restore_status_flags(fd.borrow(), e.flags, e.id));
	pr_info("Restored eventpoll: id {:#x} flags {:#o}\n", e.id, e.flags);
	return fd;
}

Result<> add_eventpoll_targets(const EventpollFileEntry &e, int epfd)
{
	for (size_t i = 0; i < e.n_tfd; i++) {
		const EventpollTfdEntry &te = *e.tfd[i];
		struct epoll_event ev {};
		ev.events = te.events;
		ev.data.u64 = te.data;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, int(te.tfd), &ev) < 0)
			return fail_errno("can't add target fd {} (events {:#x}) to eventpoll {:#x}", te.tfd, te.events,
					  e.id);
		pr_info("Restored eventpoll-tfd: id {:#x} tfd {} events {:#x} data {:#x}\n", e.id, te.tfd, te.events,
			te.data);
	}
	return {};
}

} // namespace criu
