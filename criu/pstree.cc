// Helper tasks for process groups whose leader has died: see pstree.h.
#define LOG_PREFIX "pstree: "
#include "pstree.h"

#include <linux/sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "common/log.h"
#include "options.h"
#include "restore.h"

namespace criu {

namespace {

using ByPid = std::map<pid_t, const PstreeItem *>;

// A session helper for each session whose leader has died, forked by the task outside the
// session whose children are in it.
Result<std::map<pid_t, PgrpHelper>> plan_session_helpers(const std::vector<PstreeItem> &tasks, const ByPid &by_pid)
{
	std::map<pid_t, PgrpHelper> helpers;
	const PstreeItem &root = tasks.front();
	for (const PstreeItem &t : tasks) {
		if (by_pid.count(t.sid) || t.sid == root.sid) // a task's, or criu's (restore_session)
			continue;
		auto pp = by_pid.find(t.ppid);
		if (pp == by_pid.end())
			return fail(EINVAL, "pstree.img: the parent {} of task {} is not in the tree", t.ppid, t.pid);
		const PstreeItem &parent = *pp->second;
		if (parent.sid == t.sid)
			continue; // forked by its parent, inside the session
		if (!parent.subreaper)
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

// pid and its ancestors in the tree, nearest first.
std::vector<pid_t> ancestors(pid_t pid, const ByPid &by_pid)
{
	std::vector<pid_t> out;
	for (auto it = by_pid.find(pid); it != by_pid.end(); it = by_pid.find(it->second->ppid))
		out.push_back(it->first);
	return out;
}

// Who forks the helper of group pgid, whose leader has died: its first live member, or, with
// zombies in it, the nearest common ancestor of the zombies, which must be in the group's
// session (see pstree.h; a zombie forked by a session helper has the subreaper as parent,
// outside the session: refused).
Result<pid_t> group_helper_parent(pid_t pgid, const std::vector<PstreeItem> &tasks, const ByPid &by_pid)
{
	std::vector<pid_t> common;
	pid_t sid = 0, first_live = 0, zombie = 0;
	bool zombies = false;
	for (const PstreeItem &t : tasks) {
		if (t.pgid != pgid)
			continue;
		if (!t.zombie) {
			first_live = first_live ? first_live : t.pid;
			continue;
		}
		std::vector<pid_t> up = ancestors(t.ppid, by_pid);
		if (!zombies)
			common = up;
		else
			std::erase_if(common, [&](pid_t p) { return std::ranges::find(up, p) == up.end(); });
		zombies = true;
		sid = t.sid;
		zombie = t.pid;
	}
	if (!zombies)
		return first_live;
	if (!common.empty() && by_pid.at(common.front())->sid == sid)
		return common.front();
	return fail(EOPNOTSUPP, "zombie {} is in process group {}, whose leader is dead, and the nearest "
		    "common ancestor of its zombies is not in session {}: not supported", zombie, pgid, sid);
}

} // namespace

Result<std::vector<PgrpHelper>> plan_pgrp_helpers(const std::vector<PstreeItem> &tasks, const Options &opts)
{
	ByPid by_pid;
	for (const PstreeItem &t : tasks)
		by_pid[t.pid] = &t;
	const PstreeItem &root = tasks.front();
	if (!by_pid.count(root.pgid) && !opts.shell_job)
		return fail(EINVAL, "task {} is in process group {}, whose leader is not in the checkpoint "
			    "(use --shell-job)", root.pid, root.pgid);
	std::map<pid_t, PgrpHelper> sessions = TRY(plan_session_helpers(tasks, by_pid));
	std::map<pid_t, PgrpHelper> helpers;
	for (const PstreeItem &t : tasks) {
		if (by_pid.count(t.pgid) || sessions.count(t.pgid) || t.pgid == root.pgid || helpers.count(t.pgid))
			continue; // the root's group: criu's
		pid_t parent = TRY(group_helper_parent(t.pgid, tasks, by_pid));
		helpers.emplace(t.pgid, PgrpHelper{t.pgid, parent});
		pr_info("Add a helper {} for restoring PGID {} (forked by {})", t.pgid, t.pgid, parent);
	}
	std::vector<PgrpHelper> out;
	for (const auto &[sid, h] : sessions)
		out.push_back(h);
	for (const auto &[pgid, h] : helpers)
		out.push_back(h);
	return out;
}

Result<std::vector<PgrpHelper>> plan_pgrp_helpers(const std::vector<TaskPlan> &tasks, const Options &opts)
{
	std::vector<PstreeItem> items;
	for (const TaskPlan &p : tasks) {
		const TaskImages &t = p.images;
		bool subreaper = !t.zombie && t.tc().has_child_subreaper && t.tc().child_subreaper;
		items.push_back(PstreeItem{t.pid, t.ppid, t.pgid, t.sid, t.zombie, subreaper});
	}
	return plan_pgrp_helpers(items, opts);
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
