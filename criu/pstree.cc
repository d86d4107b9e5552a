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
using Helpers = std::map<pid_t, PgrpHelper>;

// How each task in another session than its parent's, which it did not make (setsid), is forked
// in it: by the helper of a session whose leader has died, which its parent, a child subreaper,
// forks (the first such parent met, pstree order); or by its parent, which has left the session
// since by setsid() (CRIU's born_sid): a session leader, forked in the session the same way,
// that forks its children in it before its setsid().
Result<> plan_sessions(const std::vector<PstreeItem> &tasks, const ByPid &by_pid, Helpers &helpers,
		       std::map<pid_t, pid_t> &born)
{
	const PstreeItem &root = tasks.front();
	for (const PstreeItem &t : tasks) {
		if (&t == &root || t.sid == t.pid)
			continue;
		pid_t sid = t.sid, child = t.pid;
		bool dead = !by_pid.count(sid) && sid != root.sid; // else a task's, or criu's (restore_session)
		for (const PstreeItem *p = by_pid.at(t.ppid); p->sid != sid; p = by_pid.at(p->ppid)) {
			auto h = helpers.find(sid);
			if (h != helpers.end() && h->second.parent == p->pid)
				break;
			if (dead && p->subreaper && h == helpers.end()) {
				helpers.emplace(sid, PgrpHelper{sid, p->pid, true});
				pr_info("Add a helper {} for restoring SID {} (forked by {})", sid, sid, p->pid);
				break;
			}
			if (p == &root || p->sid != p->pid)
				return fail(EOPNOTSUPP, "task {} is in session {}, and its parent {} is neither in it, "
					    "nor a child subreaper, nor a session leader that left it: not supported",
					    child, sid, p->pid);
			auto [it, added] = born.emplace(p->pid, sid);
			if (it->second != sid)
				return fail(EOPNOTSUPP, "task {} has children in sessions {} and {}, neither its own: "
					    "not supported", p->pid, it->second, sid);
			if (!added)
				break; // how it is forked is planned already
			pr_info("{} was born with sid {}", p->pid, sid);
			child = p->pid;
		}
	}
	return {};
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

Result<PstreePlan> plan_pstree(const std::vector<PstreeItem> &tasks, const Options &opts)
{
	ByPid by_pid;
	for (const PstreeItem &t : tasks)
		by_pid[t.pid] = &t;
	const PstreeItem &root = tasks.front();
	if (!by_pid.count(root.pgid) && !opts.shell_job)
		return fail(EINVAL, "task {} is in process group {}, whose leader is not in the checkpoint "
			    "(use --shell-job)", root.pid, root.pgid);
	for (const PstreeItem &t : tasks)
		if (&t != &root && !by_pid.count(t.ppid))
			return fail(EINVAL, "pstree.img: the parent {} of task {} is not in the tree", t.ppid, t.pid);
	Helpers sessions;
	PstreePlan plan;
	TRY(plan_sessions(tasks, by_pid, sessions, plan.born_sid));
	Helpers helpers;
	for (const PstreeItem &t : tasks) {
		if (by_pid.count(t.pgid) || sessions.count(t.pgid) || t.pgid == root.pgid || helpers.count(t.pgid))
			continue; // the root's group: criu's
		pid_t parent = TRY(group_helper_parent(t.pgid, tasks, by_pid));
		helpers.emplace(t.pgid, PgrpHelper{t.pgid, parent});
		pr_info("Add a helper {} for restoring PGID {} (forked by {})", t.pgid, t.pgid, parent);
	}
	for (const auto &[sid, h] : sessions)
		plan.helpers.push_back(h);
	for (const auto &[pgid, h] : helpers)
		plan.helpers.push_back(h);
	return plan;
}

std::vector<PstreeItem> pstree_items(const std::vector<TaskPlan> &tasks)
{
	std::vector<PstreeItem> items;
	for (const TaskPlan &p : tasks) {
		const TaskImages &t = p.images;
		bool subreaper = !t.zombie && t.tc().has_child_subreaper && t.tc().child_subreaper;
		items.push_back(PstreeItem{t.pid, t.ppid, t.pgid, t.sid, t.zombie, subreaper});
	}
	return items;
}

Result<std::vector<PgrpHelper>> plan_pgrp_helpers(const std::vector<TaskPlan> &tasks, const Options &opts)
{
	return TRY(plan_pstree(pstree_items(tasks), opts)).helpers;
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
