// Helper tasks for process groups whose leader has died: see pstree.h.
#define LOG_PREFIX "pstree: "
#include "pstree.h"

#include <linux/sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <map>

#include "common/log.h"
#include "options.h"
#include "restore.h"

namespace criu {

Result<std::vector<PgrpHelper>> plan_pgrp_helpers(const std::vector<TaskPlan> &tasks, const Options &opts)
{
	std::set<pid_t> pids;
	for (const TaskPlan &t : tasks)
		pids.insert(t.images.pid);
	const TaskImages &root = tasks.front().images;
	if (!pids.count(root.pgid) && !opts.shell_job)
		return fail(EINVAL, "task {} is in process group {}, whose leader is not in the checkpoint "
			    "(use --shell-job)", root.pid, root.pgid);
	std::map<pid_t, PgrpHelper> helpers;
	for (const TaskPlan &p : tasks) {
		const TaskImages &t = p.images;
		if (pids.count(t.pgid) || t.pgid == root.pgid) // a task's, or criu's (--shell-job)
			continue;
		if (t.zombie)
			return fail(EOPNOTSUPP, "zombie {} is in process group {}, whose leader is dead: not "
				    "supported yet", t.pid, t.pgid);
		if (helpers.emplace(t.pgid, PgrpHelper{t.pgid, t.pid}).second)
			pr_info("Add a helper {} for restoring PGID {} (forked by {})", t.pgid, t.pgid, t.pid);
	}
	std::vector<PgrpHelper> out;
	for (const auto &[pgid, h] : helpers)
		out.push_back(h);
	return out;
}

std::set<pid_t> restored_groups(const std::vector<TaskPlan> &tasks, const std::vector<PgrpHelper> &helpers)
{
	std::set<pid_t> out;
	for (const TaskPlan &t : tasks)
		out.insert(t.images.pid);
	for (const PgrpHelper &h : helpers)
		out.insert(h.pid);
	return out;
}

Result<> fork_pgrp_helper(const PgrpHelper &h)
{
	clone_args ca{};
	ca.exit_signal = 0; // its parent reaps it at criu's request, and must not see a SIGCHLD
	ca.set_tid = reinterpret_cast<uint64_t>(&h.pid);
	ca.set_tid_size = 1;
	long ret = syscall(SYS_clone3, &ca, sizeof(ca));
	if (ret < 0)
		return fail_errno("can't create the helper for process group {} (clone3 set_tid)", h.pid);
	if (ret == 0)
		_exit(setpgid(0, 0) == 0 ? 0 : 1); // raw syscalls only: a copy of the restoring task
	return {};
}

} // namespace criu
