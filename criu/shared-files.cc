// Open files held by more than one task: opened once by the root task (see shared-files.h).
#define LOG_PREFIX "files: "
#include "shared-files.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <sstream>

#include "anon-inode.h"
#include "common/log.h"
#include "common/xio.h"
#include "fdinfo.pb-c.h"
#include "files.h"
#include "files-reg.h"
#include "sk-unix.h"

namespace criu {

Result<UniqueFd> open_once(const FileTable &t, uint32_t id, uint32_t type)
{
	switch (type) {
	case FD_TYPES__REG: return t.open_reg(id);
	case FD_TYPES__MEMFD: return t.open_memfd(id);
	case FD_TYPES__PIPE: return t.open_pipe(id);
	case FD_TYPES__FIFO: return t.open_fifo(id);
	default: return t.open_anon(id);
	}
}

bool opened_once(uint32_t type)
{
	switch (type) {
	case FD_TYPES__REG:
	case FD_TYPES__MEMFD:
	case FD_TYPES__PIPE:
	case FD_TYPES__FIFO:
	case FD_TYPES__EVENTFD:
	case FD_TYPES__SIGNALFD:
	case FD_TYPES__TIMERFD:
	case FD_TYPES__INOTIFY:
	case FD_TYPES__FANOTIFY: return true;
	default: return false;
	}
}

namespace {

// A handed epoll's creator registers its own fds at restore (handed-files.h): a target that
// is another handed epoll, which another task makes, it would only receive later. handed: id ->
// (pid, fd) of the task that dumped it (restore's creator).
Result<> check_handed_targets(const std::map<uint32_t, std::pair<pid_t, int>> &handed)
{
	for (const auto &[id, at] : handed) {
		auto [pid, fd] = at;
		std::string info = TRY(xio::read_file(fmt::format("/proc/{}/fdinfo/{}", pid, fd)));
		std::istringstream in(info);
		for (std::string line; std::getline(in, line);) {
			int tfd;
			if (sscanf(line.c_str(), "tfd: %d", &tfd) != 1)
				continue;
			for (const auto &[other, by] : handed)
				if (other != id && by.first != pid &&
				    syscall(SYS_kcmp, pid, by.first, KCMP_FILE, tfd, by.second) == 0)
					return fail(EOPNOTSUPP, "pid {} fd {}: epoll {:#x}, held by tasks that did not all get it "
						    "from a parent, has target fd {}, epoll {:#x}, held that way too: restore "
						    "would make {:#x} in task {} before {:#x} comes from task {}: not supported",
						    pid, fd, id, tfd, other, id, pid, other, by.first);
		}
	}
	return {};
}

} // namespace

Result<> FilesDumper::check_inherited(const std::map<pid_t, pid_t> &parents) const
{
	std::map<uint32_t, std::pair<pid_t, int>> handed;
	auto holds = [&](const std::set<pid_t> &set, pid_t pid) {
		for (pid_t h : set) // a task sharing a holder's fd table (CLONE_FILES) holds it too
			if (h == pid || syscall(SYS_kcmp, h, pid, KCMP_FILES, 0, 0) == 0)
				return true;
		return false;
	};
	for (const auto &[id, held] : parent_shared_) {
		const std::set<pid_t> &set = held.second;
		std::vector<pid_t> tops; // holders whose parent does not hold it
		for (pid_t pid : set) {
			auto up = parents.find(pid);
			if (up == parents.end() || !holds(set, up->second))
				tops.push_back(pid);
		}
		if (tops.size() < 2)
			continue;
		// Made by the task that dumped it, handed to the others at restore (handed-files.h); a
		// terminal from outside the tree is criu's own for every task anyway.
		for (const DumpedFd &d : dumped_)
			if (d.id == id)
				handed[id] = {d.pid, d.fd};
		pr_info("tasks {} and {} hold {} {:#x}, neither from a parent that holds it too: handed over at restore",
			tops[0], tops[1], held.first == FD_TYPES__TTY ? "terminal" : "epoll", id);
	}
	return check_handed_targets(handed);
}

std::set<uint32_t> ids_in_several(const std::vector<std::set<uint32_t>> &tables)
{
	std::map<uint32_t, size_t> seen;
	std::set<uint32_t> out;
	for (const std::set<uint32_t> &ids : tables)
		for (uint32_t id : ids)
			if (++seen[id] == 2)
				out.insert(id);
	return out;
}

// Every ghost file is made here, once, so that tasks that open or map the same deleted file
// through files of their own (other ids) still get the one inode.
Result<> FileTable::create_ghosts(int above) const
{
	TRY(reg_->keep_fds_from(above + 1));
	for (const auto &[id, m] : entries_) {
		const auto *fe = pb_cast<FileEntry>(m);
		if (fe->type == FD_TYPES__REG && reg_->is_ghost(*fe->reg))
			(void)TRY_CTX(open_reg(id, O_RDONLY), "ghost file {:#x}", id);
	}
	return {};
}

Result<> FileTable::open_shared(int above, const std::vector<const FdPlan *> &plans) const
{
	TRY(create_ghosts(above));
	std::vector<std::set<uint32_t>> tables;
	for (const FdPlan *p : plans) {
		std::set<uint32_t> ids;
		for (const auto &[id, fd] : p->files_by_id())
			ids.insert(id);
		tables.push_back(std::move(ids));
	}
	for (uint32_t id : ids_in_several(tables)) {
		if (unix_->in_flight_files().contains(id))
			continue; // opened once already, for the socket queues (sk-unix.h)
		auto it = entries_.find(id);
		if (it == entries_.end())
			return fail(ENOENT, "files.img: no file with id {:#x}", id);
		uint32_t type = uint32_t(pb_cast<FileEntry>(it->second)->type);
		if (!opened_once(type)) {
			pr_debug("file {:#x} (type {}) is held by several tasks, each opens its own", id, type);
			continue;
		}
		auto fd = open_once(*this, id, type);
		if (!fd) { // e.g. a /proc file of a task forked later: each task opens it, as before
			pr_warn("file {:#x} is held by several tasks but can't be opened before they exist ({}): "
				"each opens its own", id, fd.error().describe());
			continue;
		}
		int hidden = fcntl(fd->get(), F_DUPFD_CLOEXEC, above + 1);
		if (hidden < 0)
			return fail_errno("file {:#x}: can't move it above fd {}", id, above);
		shared_[id] = UniqueFd(hidden);
		pr_info("file {:#x} (type {}) is held by several tasks: opened once, at fd {}", id, type, hidden);
	}
	return {};
}

} // namespace criu
