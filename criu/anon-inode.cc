// What the anon-inode fd kinds share (see anon-inode.h).
#define LOG_PREFIX "files: "
#include "anon-inode.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>

#include "common/log.h"
#include "common/xio.h"
#include "eventfd.h"
#include "eventpoll.h"
#include "files-reg.h"
#include "files.h"
#include "fsnotify.h"
#include "signalfd.h"
#include "timerfd.h"

namespace criu {

bool is_anon_type(uint32_t type)
{
	switch (type) {
	case FD_TYPES__EVENTFD:
	case FD_TYPES__EVENTPOLL:
	case FD_TYPES__SIGNALFD:
	case FD_TYPES__TIMERFD:
	case FD_TYPES__INOTIFY:
	case FD_TYPES__FANOTIFY:
		return true;
	default:
		return false;
	}
}

Result<std::string> read_fdinfo(const FdParms &p)
{
	return TRY_CTX(xio::read_file(fmt::format("/proc/{}/fdinfo/{}", p.pid, p.fd)), "{}", p.what());
}

bool has_fdinfo_field(std::string_view text, std::string_view name)
{
	return text.find(name) != std::string_view::npos;
}

uint64_t fdinfo_field(std::string_view text, std::string_view name, int base)
{
	size_t at = text.find(name);
	if (at == std::string_view::npos)
		return 0;
	const char *p = text.data() + at + name.size(), *end = text.data() + text.size();
	while (p < end && (*p == '\t' || *p == ' '))
		p++;
	uint64_t v = 0;
	std::from_chars(p, end, v, base);
	return v;
}

Result<> restore_status_flags(BorrowedFd fd, uint32_t flags, uint32_t id)
{
	if (fcntl(fd.get(), F_SETFL, int(flags & O_NONBLOCK)) < 0)
		return fail_errno("can't restore flags {:#o} of file {:#x}", flags, id);
	return {};
}

} // namespace criu

// ---- FileTable's part for them (declared in files.h) ----

namespace criu {

Result<> check_anon_entry(const FileEntry &fe)
{
	bool ok = false;
	switch (fe.type) {
	case FD_TYPES__EVENTFD: ok = fe.efd && fe.efd->id == fe.id; break;
	case FD_TYPES__EVENTPOLL: ok = fe.epfd && fe.epfd->id == fe.id; break;
	case FD_TYPES__SIGNALFD: ok = fe.sgfd && fe.sgfd->id == fe.id; break;
	case FD_TYPES__TIMERFD: ok = fe.tfd && fe.tfd->id == fe.id; break;
	case FD_TYPES__INOTIFY: ok = fe.ify && fe.ify->id == fe.id; break;
	case FD_TYPES__FANOTIFY: ok = fe.ffy && fe.ffy->id == fe.id; break;
	default: break;
	}
	if (!ok)
		return fail(EINVAL, "file {:#x} of type {} without a matching entry", fe.id, int(fe.type));
	return {};
}

Result<UniqueFd> FileTable::open_anon(uint32_t id) const
{
	auto it = entries_.find(id);
	if (it == entries_.end())
		return fail(ENOENT, "files.img: no file with id {:#x}", id);
	const auto *fe = pb_cast<FileEntry>(it->second);
	switch (fe->type) {
	case FD_TYPES__EVENTFD: return open_eventfd(*fe->efd);
	case FD_TYPES__EVENTPOLL: return open_eventpoll(*fe->epfd);
	case FD_TYPES__SIGNALFD: return open_signalfd(*fe->sgfd);
	case FD_TYPES__TIMERFD: return open_timerfd(*fe->tfd);
	case FD_TYPES__INOTIFY: return open_inotify(*fe->ify);
	case FD_TYPES__FANOTIFY: return open_fanotify(*fe->ffy);
	default: return fail(EINVAL, "files.img: file {:#x} is of type {}, not an anon inode", id, int(fe->type));
	}
}

Result<> FileTable::add_epoll_targets(uint32_t id, int epfd) const
{
	auto it = entries_.find(id);
	if (it == entries_.end() || pb_cast<FileEntry>(it->second)->type != FD_TYPES__EVENTPOLL)
		return fail(ENOENT, "files.img: no eventpoll with id {:#x}", id);
	return add_eventpoll_targets(*pb_cast<FileEntry>(it->second)->epfd, epfd);
}

} // namespace criu
