// Epolls and pty ends held by several tasks that did not all get them from a parent: made by one
// fd table, handed to the others over a socketpair (see handed-files.h).
#define LOG_PREFIX "files: "
#include "handed-files.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "clone-vm.h"
#include "common/log.h"
#include "eventpoll.pb-c.h"
#include "fdinfo.pb-c.h"
#include "files.h"
#include "restore.h"

namespace criu {

Result<std::map<uint32_t, uint32_t>> handed_files(const std::vector<TaskFds> &tasks,
						  const std::vector<pid_t> &pids)
{
	std::map<uint32_t, size_t> tops;      // id -> holders whose parent does not hold it
	std::map<uint32_t, uint32_t> creator; // id -> the first table that holds it
	for (size_t i = 0; i < tasks.size(); i++) {
		const TaskFds &t = tasks[i];
		for (uint32_t id : t.ids) {
			creator.try_emplace(id, t.files_id);
			if (t.installs && !(t.parent && tasks[*t.parent].ids.contains(id)))
				tops[id]++;
		}
	}
	std::map<uint32_t, uint32_t> out;
	for (auto [id, n] : tops)
		if (n > 1)
			out[id] = creator.at(id);
	for (size_t i = 0; i < tasks.size(); i++) {
		const TaskFds &t = tasks[i];
		if (!t.stages_vm_kid || t.installs)
			continue;
		for (uint32_t id : t.ids)
			if (auto it = out.find(id); it != out.end() && it->second != t.files_id)
				return fail(ENOTSUP, "task {} has a CLONE_VM child with an fd table of its own and shares "
					    "(CLONE_FILES) an fd table that receives file {:#x} (an epoll or pty end) "
					    "from another task: not supported",
					    i < pids.size() ? pids[i] : 0, id);
	}
	return out;
}

std::vector<TaskFds> task_fds(const std::vector<TaskPlan> &tasks, const FileTable &files)
{
	std::vector<TaskFds> out(tasks.size());
	for (size_t i = 0; i < tasks.size(); i++) {
		const TaskImages &t = tasks[i].images;
		TaskFds &f = out[i];
		if (t.zombie)
			continue;
		f.files_id = t.ids_entry().files_id;
		for (size_t j = 0; j < i; j++)
			if (tasks[j].images.pid == t.ppid)
				f.parent = j;
		f.installs = !(shared_at_fork(tasks, i) & CLONE_FILES);
		f.ids = tasks[i].fds.handable(files);
		f.stages_vm_kid = vm_child_with_own_fds(tasks, i) != nullptr;
	}
	return out;
}

std::vector<pid_t> task_pids(const std::vector<TaskPlan> &tasks)
{
	std::vector<pid_t> out;
	for (const TaskPlan &t : tasks)
		out.push_back(t.images.pid);
	return out;
}

namespace {

Result<UniqueFd> above_all(int fd, int above)
{
	UniqueFd own(fd);
	UniqueFd moved(fcntl(fd, F_DUPFD_CLOEXEC, above + 1));
	if (!moved)
		return fail_errno("can't move fd {} above {}", fd, above);
	return moved;
}

} // namespace

Result<HandedFiles> HandedFiles::create(int above, const std::map<uint32_t, uint32_t> &creators)
{
	HandedFiles h;
	for (auto [id, files_id] : creators) {
		int sk[2];
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sk) < 0)
			return fail_errno("file {:#x}: can't make its socketpair", id);
		UniqueFd send = TRY(above_all(sk[0], above));
		UniqueFd recv = TRY(above_all(sk[1], above));
		pr_info("file {:#x} is held by tasks that did not all inherit it: fd table {} makes it and "
			"hands it over fds {} -> {}", id, files_id, send.get(), recv.get());
		h.pairs_.emplace(id, Pair{files_id, std::move(send), std::move(recv)});
	}
	return h;
}

bool HandedFiles::creates(uint32_t id, uint32_t files_id) const
{
	auto it = pairs_.find(id);
	return it != pairs_.end() && it->second.creator == files_id;
}

bool HandedFiles::receives(uint32_t id, uint32_t files_id) const
{
	auto it = pairs_.find(id);
	return it != pairs_.end() && it->second.creator != files_id;
}

int HandedFiles::placeholder(uint32_t id) const { return pairs_.at(id).recv.get(); }

namespace {

// What send and receive exchange: one byte, with room for one fd (SCM_RIGHTS).
struct OneFdMsg {
	char byte = 'e';
	iovec iov{&byte, 1};
	alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
	msghdr msg{};

	OneFdMsg()
	{
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl;
		msg.msg_controllen = sizeof(ctl);
	}
	OneFdMsg(const OneFdMsg &) = delete;
	OneFdMsg &operator=(const OneFdMsg &) = delete;
};

} // namespace

Result<> HandedFiles::send(uint32_t id, int epfd) const
{
	OneFdMsg m;
	msghdr &msg = m.msg;
	cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	std::memcpy(CMSG_DATA(c), &epfd, sizeof(int));
	// One datagram on an empty queue: never blocks. Each receiver peeks it.
	if (sendmsg(pairs_.at(id).send.get(), &msg, MSG_DONTWAIT) != 1)
		return fail_errno("file {:#x}: can't hand fd {} to the other tasks holding it", id, epfd);
	pr_info("file {:#x}: made by {}, handed to the other tasks holding it", id, getpid());
	return {};
}

Result<UniqueFd> HandedFiles::receive(uint32_t id) const
{
	OneFdMsg m;
	msghdr &msg = m.msg;
	ssize_t n;
	do // a new fd of the file each time, the message stays for the next receiver
		n = recvmsg(pairs_.at(id).recv.get(), &msg, MSG_PEEK | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fail_errno("file {:#x}: can't receive it from the task that makes it", id);
	cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (n != 1 || (msg.msg_flags & MSG_CTRUNC) || !c || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return fail(EINVAL, "file {:#x}: the task that makes it sent no fd", id);
	int fd;
	std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
	pr_info("file {:#x}: received by {} from the task that made it", id, getpid());
	return UniqueFd(fd);
}

// A creator registers its own fds: one that holds an epoll another table makes (a placeholder
// until the task's children exist) can't be a target.
Result<> FileTable::hand_files(int above, const std::map<uint32_t, uint32_t> &creators,
				const std::vector<const FdPlan *> &plans) const
{
	if (creators.empty())
		return {};
	for (auto [id, files_id] : creators) {
		auto plan = std::find_if(plans.begin(), plans.end(),
					 [&](const FdPlan *p) { return p->files_id() == files_id; });
		auto it = entries_.find(id);
		if (plan == plans.end() || it == entries_.end())
			return fail(ENOENT, "file {:#x}: not in files.img or fdinfo-{}.img", id, files_id);
		if (pb_cast<FileEntry>(it->second)->type != FD_TYPES__EVENTPOLL)
			continue; // a pty end: no targets
		const EventpollFileEntry &e = *pb_cast<FileEntry>(it->second)->epfd;
		for (size_t i = 0; i < e.n_tfd; i++) {
			std::optional<uint32_t> target = (*plan)->id_at(int(e.tfd[i]->tfd));
			auto other = target ? creators.find(*target) : creators.end();
			if (other != creators.end() && other->second != files_id)
				return fail(ENOTSUP, "eventpoll {:#x} (made by fd table {}, held by tasks that did not all inherit "
					    "it): its target fd {} is eventpoll {:#x}, which fd table {} makes: not supported",
					    id, files_id, e.tfd[i]->tfd, *target, other->second);
		}
	}
	handoffs_ = std::make_unique<HandedFiles>(TRY(HandedFiles::create(above, creators)));
	return {};
}

} // namespace criu
