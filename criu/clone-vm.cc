// Processes sharing memory and signal handlers without being threads (see clone-vm.h).
#define LOG_PREFIX "clone-vm: "
#include "clone-vm.h"

#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <sstream>

#include "common/log.h"
#include "common/xio.h"
#include "proc-parse.h"

namespace criu {
namespace {

bool shares(pid_t a, pid_t b, int type) { return syscall(SYS_kcmp, a, b, type, 0, 0) == 0; }

// /proc/PID/stat field 38: the signal the parent gets when the task ends.
Result<int> exit_signal(pid_t pid)
{
	std::string stat = TRY(xio::read_file(fmt::format("/proc/{}/stat", pid)));
	size_t at = stat.rfind(')');
	if (at == std::string::npos)
		return fail(EINVAL, "/proc/{}/stat: no command", pid);
	std::istringstream in(stat.substr(at + 1));
	std::string field;
	for (int i = 3; i <= 38 && in >> field; i++)
		if (i == 38)
			return std::stoi(field);
	return fail(EINVAL, "/proc/{}/stat: no exit signal", pid);
}

Result<std::string> personality_of(pid_t pid) { return read_proc_line(fmt::format("/proc/{}/personality", pid)); }

// POSIX locks belong to an fd table: restore moves the fds of p and c (see stage_fds), which
// would drop them.
Result<bool> has_posix_locks(pid_t pid)
{
	std::istringstream in(TRY(xio::read_file("/proc/locks")));
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream f(line);
		std::string n, type, mode, rw;
		pid_t owner = 0;
		if (f >> n >> type >> mode >> rw >> owner && type == "POSIX" && owner == pid)
			return true;
	}
	return false;
}

// c has an fd table of its own: supported when it is p's only such child, p's table is its
// own (no other task shares it) and neither holds POSIX locks.
Result<> check_own_fds(pid_t c, pid_t p, const std::map<pid_t, pid_t> &parents)
{
	for (const auto &[other, parent] : parents) {
		if (other == c || other == p || (other != parents.at(p) && parent != p))
			continue;
		if (shares(other, p, KCMP_FILES))
			return fail(EOPNOTSUPP, "task {} shares memory and signal handlers with its parent {}, but has its "
				    "own fd table while {} shares the parent's: not supported", c, p, other);
		if (parent == p && shares(other, p, KCMP_VM) && !shares(other, p, KCMP_FILES))
			return fail(EOPNOTSUPP, "tasks {} and {} share memory and signal handlers with their parent {}, "
				    "each with an fd table of its own: not supported (only one such child)", c, other, p);
	}
	for (pid_t t : {c, p})
		if (TRY(has_posix_locks(t)))
			return fail(EOPNOTSUPP, "task {} shares memory and signal handlers with its parent {}, but has its "
				    "own fd table, and {} holds POSIX locks: not supported", c, p, t);
	return {};
}

// c shares memory or signal handlers with its parent p: the supported form, or a refusal.
Result<> check_child(pid_t c, pid_t p, const std::map<pid_t, pid_t> &parents)
{
	auto refuse = [&](const char *what) {
		return fail(EOPNOTSUPP, "task {} shares memory and signal handlers with its parent {}, but {}: not "
			    "supported", c, p, what);
	};
	if (!shares(c, p, KCMP_VM))
		return fail(EOPNOTSUPP, "tasks {} and {} share their signal handlers but not their memory: not supported",
			    c, p);
	if (!shares(c, p, KCMP_SIGHAND))
		return fail(EOPNOTSUPP, "tasks {} and {} share their memory (CLONE_VM) but not their signal handlers "
			    "(CLONE_SIGHAND): not supported", c, p);
	if (!shares(c, p, KCMP_FILES))
		TRY(check_own_fds(c, p, parents));
	for (const auto &[kid, parent] : parents)
		if (parent == c)
			return fail(EOPNOTSUPP, "task {} shares memory and signal handlers with its parent {}, but has a "
				    "child {}: not supported", c, p, kid);
	ProcStat cs = TRY_CTX(parse_stat(c), "task {}", c), ps = TRY_CTX(parse_stat(p), "task {}", p);
	if (cs.sid != ps.sid || cs.pgid != ps.pgid)
		return refuse("is in another session or process group");
	if (int sig = TRY_CTX(exit_signal(c), "task {}", c); sig != SIGCHLD)
		return fail(EOPNOTSUPP, "task {} shares memory and signal handlers with its parent {}, but its exit "
			    "signal is {}, not SIGCHLD: not supported", c, p, sig);
	if (TRY(personality_of(c)) != TRY(personality_of(p)))
		return refuse("has another personality");
	return {};
}

} // namespace

Result<> check_clone_vm(const std::map<pid_t, pid_t> &parents, const std::vector<pid_t> &live)
{
	for (pid_t c : live) {
		pid_t p = parents.at(c);
		if (p == 0) { // the root: sharing with its parent, outside the tree, can't come back
			pid_t outside = TRY_CTX(parse_stat(c), "task {}", c).ppid;
			if (outside > 0 && (shares(c, outside, KCMP_VM) || shares(c, outside, KCMP_SIGHAND)))
				return fail(EOPNOTSUPP, "task {} shares its memory or signal handlers with its parent {}, "
					    "which is not in the tree: not supported (dump {} instead)", c, outside, outside);
			continue;
		}
		if (!shares(c, p, KCMP_VM) && !shares(c, p, KCMP_SIGHAND))
			continue;
		TRY(check_child(c, p, parents));
		pr_info("task {} shares memory, signal handlers{}{} with its parent {}", c,
			shares(c, p, KCMP_FILES) ? ", fd table" : "", shares(c, p, KCMP_FS) ? ", fs" : "", p);
	}
	return {};
}

std::vector<const TaskPlan *> vm_children(const std::vector<TaskPlan> &tasks, size_t index)
{
	std::vector<const TaskPlan *> out;
	for (size_t i = index + 1; i < tasks.size(); i++)
		if (tasks[i].images.vm_child && tasks[i].images.ppid == tasks[index].images.pid)
			out.push_back(&tasks[i]);
	return out;
}

const TaskPlan *vm_child_with_own_fds(const std::vector<TaskPlan> &tasks, size_t index)
{
	for (const TaskPlan *kid : vm_children(tasks, index))
		if (kid->images.ids_entry().files_id != tasks[index].images.ids_entry().files_id)
			return kid;
	return nullptr;
}

namespace {

// c has an fd table of its own: p's only such child, and p's table is p's alone.
Result<> check_own_fds_images(const TaskImages &c, const TaskImages &p, const std::vector<TaskPlan> &tasks)
{
	for (const TaskPlan &t : tasks) {
		const TaskImages &o = t.images;
		if (o.zombie || o.pid == p.pid || o.pid == c.pid)
			continue;
		if (o.ids_entry().files_id == p.ids_entry().files_id || o.ids_entry().files_id == c.ids_entry().files_id)
			return fail(EINVAL, "ids-{}.img: task {} has its own fd table and shares the memory of its parent "
				    "{}, whose table task {} shares: not supported", c.pid, c.pid, p.pid, o.pid);
		if (o.vm_child && o.ppid == p.pid && o.ids_entry().files_id != p.ids_entry().files_id)
			return fail(EINVAL, "ids-{}.img: tasks {} and {} share the memory of their parent {}, each with "
				    "its own fd table: not supported", c.pid, c.pid, o.pid, p.pid);
	}
	return {};
}

Result<> check_vm_child(const TaskImages &c, const TaskImages &p, const std::vector<TaskPlan> &tasks)
{
	const TaskKobjIdsEntry &ci = c.ids_entry(), &pi = p.ids_entry();
	auto refuse = [&](const char *what) {
		return fail(EINVAL, "ids-{}.img: task {} shares the memory of its parent {}, but {}: not supported",
			    c.pid, c.pid, p.pid, what);
	};
	if (p.zombie || p.vm_child)
		return refuse("that parent is a zombie or shares its memory too");
	if (ci.sighand_id != pi.sighand_id)
		return refuse("not its signal handlers");
	if (ci.files_id != pi.files_id)
		TRY(check_own_fds_images(c, p, tasks));
	if (c.sid != p.sid || c.pgid != p.pgid)
		return refuse("not its session and process group");
	if (c.tc().personality != p.tc().personality)
		return refuse("not its personality");
	for (const TaskPlan &t : tasks)
		if (t.images.ppid == c.pid)
			return refuse("has children");
	return {};
}

} // namespace

Result<> check_vm_children(const std::vector<TaskPlan> &tasks)
{
	for (size_t i = 0; i < tasks.size(); i++) {
		const TaskImages &c = tasks[i].images;
		if (c.zombie)
			continue;
		for (size_t j = 0; j < i && !c.vm_child; j++) {
			const TaskImages &o = tasks[j].images;
			if (!o.zombie && (o.ids_entry().vm_id == c.ids_entry().vm_id ||
					  o.ids_entry().sighand_id == c.ids_entry().sighand_id))
				return fail(EINVAL, "ids-{}.img: task {} shares the memory or signal handlers of task {}, "
					    "but not its parent's: not supported", c.pid, c.pid, o.pid);
		}
		if (!c.vm_child)
			continue;
		auto parent = std::find_if(tasks.begin(), tasks.end(), [&](const TaskPlan &t) { return t.images.pid == c.ppid; });
		if (parent == tasks.end())
			return fail(EINVAL, "pstree.img: the parent {} of task {} is missing", c.ppid, c.pid);
		TRY(check_vm_child(c, parent->images, tasks));
		const TaskKobjIdsEntry &ci = c.ids_entry(), &pi = parent->images.ids_entry();
		pr_info("task {} shares memory, signal handlers{}{} with its parent {}", c.pid,
			ci.files_id == pi.files_id ? ", fd table" : "", ci.fs_id == pi.fs_id ? ", fs" : "", c.ppid);
	}
	return {};
}

Result<> restore_vm_child_rlimits(const TaskImages &task)
{
	const TaskCoreEntry &tc = task.tc();
	if (!tc.rlimits)
		return {};
	for (size_t r = 0; r < tc.rlimits->n_rlimits; r++) {
		rlimit lim{tc.rlimits->rlimits[r]->cur, tc.rlimits->rlimits[r]->max};
		if (prlimit(task.pid, __rlimit_resource(r), &lim, nullptr) < 0)
			pr_warn("task {}: can't set resource limit {} to {}/{}: {}", task.pid, r, lim.rlim_cur,
				lim.rlim_max, strerror(errno));
	}
	return {};
}

} // namespace criu
