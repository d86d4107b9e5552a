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

namespace {

// A session helper for each session whose leader has died, forked by the task outside the
// session whose children are in it.
Result<std::map<pid_t, PgrpHelper>> plan_session_helpers(const std::vector<TaskPlan> &tasks,
							  const std::map<pid_t, const TaskImages *> &by_pid)
{
	std::map<pid_t, PgrpHelper> helpers;
	const TaskImages &root = tasks.front().images;
	for (const TaskPlan &p : tasks) {
		const TaskImages &t = p.images;
		if (by_pid.count(t.sid) || t.sid == root.sid) // a task's, or criu's (restore_session)
			continue;
		if (t.zombie)
			return fail(EOPNOTSUPP, "zombie {} is in session {}, whose leader is dead: not supported "
				    "yet", t.pid, t.sid);
		auto pp = by_pid.find(t.ppid);
		if (pp == by_pid.end())
			return fail(EINVAL, "pstree.img: the parent {} of task {} is not in the tree", t.ppid, t.pid);
		const TaskImages &parent = *pp->second;
		if (parent.sid == t.sid)
			continue; // forked by its parent, inside the session
		if (!parent.tc().has_child_subreaper || !parent.tc().child_subreaper)
			return fail(EINVAL, "task {} is in session {}, whose leader is dead, and its parent {} is "
				    "not a child subreaper", t.pid, t.sid, parent.pid);
		auto [it, added] = helpers.emplace(t.sid, PgrpHelper{t.sid, parent.pid, true});
		if (it->second.parent != parent.pid)
			return fail(EOPNOTSUPP, "session {} has children of tasks {} and {}: not supported yet",
				    t.sid, it->second.parent, parent.pid);
		if (added)
			pr_info("Add a helper {} for restoring SID {} (forked by {})", t.sid, t.sid, parent.pid);
	}
	return helpers;
}

} // namespace

Result<std::vector<PgrpHelper>> plan_pgrp_helpers(const std::vector<TaskPlan> &tasks, const Options &opts)
{
	std::map<pid_t, const TaskImages *> by_pid;
	for (const TaskPlan &t : tasks)
		by_pid[t.images.pid] = &t.images;
	const TaskImages &root = tasks.front().images;
	if (!by_pid.count(root.pgid) && !opts.shell_job)
		return fail(EINVAL, "task {} is in process group {}, whose leader is not in the checkpoint "
			    "(use --shell-job)", root.pid, root.pgid);
	std::map<pid_t, PgrpHelper> sessions = TRY(plan_session_helpers(tasks, by_pid));
	std::map<pid_t, PgrpHelper> helpers;
	for (const TaskPlan &p : tasks) {
		const TaskImages &t = p.images;
		if (by_pid.count(t.pgid) || sessions.count(t.pgid) || t.pgid == root.pgid) // root's: criu's
			continue;
		if (t.zombie)
			return fail(EOPNOTSUPP, "zombie {} is in process group {}, whose leader is dead: not "
				    "supported yet", t.pid, t.pgid);
		if (helpers.emplace(t.pgid, PgrpHelper{t.pgid, t.pid}).second)
			pr_info("Add a helper {} for restoring PGID {} (forked by {})", t.pgid, t.pgid, t.pid);
	}
	std::vector<PgrpHelper> out;
	for (const auto &[sid, h] : sessions)
		out.push_back(h);
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

Result<pid_t> clone_helper(const PgrpHelper &h)
{
	clone_args ca{};
	ca.exit_signal = 0; // its parent reaps it at criu's request, and must not see a SIGCHLD
	ca.set_tid = reinterpret_cast<uint64_t>(&h.pid);
	ca.set_tid_size = 1;
	long ret = syscall(SYS_clone3, &ca, sizeof(ca));
	if (ret < 0)
		return fail_errno("can't create the helper for {} {} (clone3 set_tid)",
				  h.session ? "session" : "process group", h.pid);
	return pid_t(ret);
}

} // namespace criu
