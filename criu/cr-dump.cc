// criu dump of a process tree (any number of threads each): seize every task, parents first,
// ask the parasite, cure, dump memory and files, write the images, then kill the tasks or (-R)
// let them go. Any failure releases every task untouched and leaves no inventory.img behind.
#define LOG_PREFIX "dump: "
#include "cr-dump.h"

#include <linux/kcmp.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "action-scripts.h"
#include "clone-vm.h"
#include "common/log.h"
#include "common/xio.h"
#include "dump-context.h"
#include "fs.pb-c.h"
#include "inventory.pb-c.h"
#include "mem-queue.h"
#include "pstree.h"
#include "pstree.pb-c.h"
#include "stats.pb-c.h"

namespace criu {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kImgVersion = 2;
constexpr uint32_t kFirstId = 1; // CRIU's ids of the first vm, files, fs, sighand

uint32_t usec(Clock::duration d) { return uint32_t(std::chrono::duration_cast<std::chrono::microseconds>(d).count()); }

Result<> write_one(ImageDir &dir, img::Kind kind, uint64_t id, const ProtobufCMessage &msg)
{
	ImageWriter w = TRY(dir.create_image(kind, id));
	TRY_CTX(w.write(msg), "{}", w.name());
	TRY_CTX(w.close(), "{}", w.name());
	return {};
}

// The tree under opts.tree, every task seized (frozen) before its children are listed, so none
// can fork behind our back. Parents come before their children. Zombies (children that exited
// and were not waited for) are not seized: their parent, frozen, can't reap them meanwhile.
struct SeizedTree {
	std::deque<compel::SeizedProcess> tasks;
	std::vector<std::pair<pid_t, ProcStat>> zombies;
	std::map<pid_t, pid_t> parents; // the root's parent is 0, as in pstree.img
};

// The children of every thread of pid (the task must be frozen for the answer to hold).
Result<std::vector<pid_t>> children_of(pid_t pid)
{
	std::vector<pid_t> out;
	std::string dir = fmt::format("/proc/{}/task", pid);
	std::error_code ec;
	for (const auto &tid : std::filesystem::directory_iterator(dir, ec)) {
		std::string kids = TRY(xio::read_file(tid.path().string() + "/children"));
		std::istringstream in(kids);
		for (pid_t c; in >> c;)
			out.push_back(c);
	}
	if (ec)
		return fail(ec.value(), "task {} not found", pid);
	return out;
}

// Small CRIU-style ids for the namespaces the task is in, in CRIU's field order.
void add_ns_ids(TaskKobjIdsEntry &ids, pid_t pid)
{
	struct Ns {
		const char *name;
		protobuf_c_boolean *has;
		uint32_t *id;
	} ns[] = {
		{"pid", &ids.has_pid_ns_id, &ids.pid_ns_id},       {"net", &ids.has_net_ns_id, &ids.net_ns_id},
		{"ipc", &ids.has_ipc_ns_id, &ids.ipc_ns_id},       {"uts", &ids.has_uts_ns_id, &ids.uts_ns_id},
		{"mnt", &ids.has_mnt_ns_id, &ids.mnt_ns_id},       {"user", &ids.has_user_ns_id, &ids.user_ns_id},
		{"cgroup", &ids.has_cgroup_ns_id, &ids.cgroup_ns_id}, {"time", &ids.has_time_ns_id, &ids.time_ns_id},
	};
	uint32_t next = kFirstId;
	for (Ns &n : ns) {
		struct stat st;
		if (stat(fmt::format("/proc/{}/ns/{}", pid, n.name).c_str(), &st) == 0) {
			*n.has = true;
			*n.id = next++;
		}
	}
}

bool shares(pid_t a, pid_t b, int kcmp_type) { return syscall(SYS_kcmp, a, b, kcmp_type, 0, 0) == 0; }

// Each task's own vm, sighand, fd table and fs, or its parent's when it shares them (CLONE_VM,
// CLONE_SIGHAND, CLONE_FILES, CLONE_FS); an fd table and fs also those of an earlier task it
// shares them with (a sibling, check_shared).
TaskKobjIdsEntry *make_ids(PbArena &a, pid_t pid, uint32_t id, pid_t ppid,
			   const std::map<pid_t, const TaskKobjIdsEntry *> &earlier)
{
	TaskKobjIdsEntry *ids = a.make(task_kobj_ids_entry__init);
	ids->vm_id = ids->files_id = ids->fs_id = ids->sighand_id = id;
	auto parent = earlier.find(ppid);
	if (parent != earlier.end()) {
		const TaskKobjIdsEntry &p = *parent->second;
		if (shares(pid, ppid, KCMP_FILES))
			ids->files_id = p.files_id;
		if (shares(pid, ppid, KCMP_FS))
			ids->fs_id = p.fs_id;
		if (shares(pid, ppid, KCMP_VM))
			ids->vm_id = p.vm_id;
		if (shares(pid, ppid, KCMP_SIGHAND))
			ids->sighand_id = p.sighand_id;
	}
	for (const auto &[other, o] : earlier) {
		if (ids->files_id == id && shares(pid, other, KCMP_FILES))
			ids->files_id = o->files_id;
		if (ids->fs_id == id && shares(pid, other, KCMP_FS))
			ids->fs_id = o->fs_id;
	}
	add_ns_ids(*ids, pid);
	return ids;
}

// One entry a task, parents before children, as CRIU writes pstree.img.
PstreeEntry *pstree_entry(PbArena &a, pid_t pid, pid_t ppid, const ProcStat &st, const std::vector<uint32_t> &tids)
{
	PstreeEntry *e = a.make(pstree_entry__init);
	e->pid = uint32_t(pid);
	e->ppid = uint32_t(ppid);
	e->pgid = uint32_t(st.pgid);
	e->sid = uint32_t(st.sid);
	e->n_threads = tids.size();
	e->threads = a.array(tids);
	return e;
}

// Every live task with its threads, parents first, then the zombies (which have no children).
Result<> dump_pstree(ImageDir &dir, PbArena &a, const std::deque<DumpContext> &tasks, const SeizedTree &tree)
{
	ImageWriter w = TRY(dir.create_image(img::Kind::Pstree));
	for (const DumpContext &ctx : tasks) {
		ProcStat st = TRY(parse_stat(ctx.pid()));
		std::vector<uint32_t> tids;
		for (pid_t t : ctx.proc.threads())
			tids.push_back(uint32_t(t));
		PstreeEntry *e = pstree_entry(a, ctx.pid(), tree.parents.at(ctx.pid()), st, tids);
		TRY_CTX(w.write(e->base), "{}", w.name());
	}
	for (const auto &[pid, st] : tree.zombies) {
		PstreeEntry *e = pstree_entry(a, pid, tree.parents.at(pid), st, {uint32_t(pid)});
		TRY_CTX(w.write(e->base), "{}", w.name());
		TRY(dump_zombie_core(dir, a, pid, st));
	}
	TRY_CTX(w.close(), "{}", w.name());
	return {};
}

Result<> dump_fs(DumpContext &ctx, const TaskParasiteState &ps)
{
	FsEntry *fs = ctx.arena.make(fs_entry__init);
	fs->cwd_id = TRY_CTX(ctx.files.dump_cwd(ctx.pid()), "cwd of {}", ctx.pid());
	fs->root_id = TRY_CTX(ctx.files.dump_root(ctx.pid()), "root of {}", ctx.pid());
	fs->has_umask = true;
	fs->umask = ps.misc.umask;
	return write_one(ctx.dir, img::Kind::Fs, uint64_t(ctx.pid()), fs->base);
}

struct Timings {
	uint32_t freezing_us = 0, frozen_us = 0;
};

Result<> dump_stats(ImageDir &dir, PbArena &a, const Timings &t, const MemDumpResult &m)
{
	DumpStatsEntry *d = a.make(dump_stats_entry__init);
	d->freezing_time = t.freezing_us;
	d->frozen_time = t.frozen_us;
	d->memdump_time = m.memdump_us;
	d->memwrite_time = m.memwrite_us;
	d->pages_scanned = m.pages_scanned;
	d->pages_skipped_parent = 0; // no parent images (pre-dump) yet
	d->pages_written = m.pages_written;
	d->pages_lazy = 0;
	StatsEntry *s = a.make(stats_entry__init);
	s->dump = d;
	return write_one(dir, img::Kind::StatsDump, 0, s->base);
}

Result<> dump_inventory(ImageDir &dir, PbArena &a, TaskKobjIdsEntry *root_ids)
{
	InventoryEntry *inv = a.make(inventory_entry__init);
	inv->img_version = kImgVersion;
	inv->has_fdinfo_per_id = true;
	inv->fdinfo_per_id = true;
	inv->root_ids = root_ids;
	inv->has_ns_per_id = true;
	inv->ns_per_id = true;
	inv->has_lsmtype = true;
	inv->lsmtype = LSMTYPE__NO_LSM;
	inv->plugins_entry = a.make(plugins_entry__init); // no plugins
	if (auto uuid = read_proc_line("/proc/sys/kernel/random/uuid"))
		inv->dump_criu_run_id = a.str(*uuid);
	return write_one(dir, img::Kind::Inventory, 0, inv->base);
}

// Everything written of one task while it is frozen and cured, but its pages: those are left to
// the memory thread (the job returned). A task sharing the fd table (files_id) of a task dumped
// before it (its parent, or a sibling) has its fds in that task's fdinfo image; one sharing its
// parent's memory (vm_id) has no mm image and no pages: its parent's are its (clone-vm.h).
Result<std::optional<MemoryJob>> dump_frozen(DumpContext &ctx, const TaskParasiteState &ps, TaskKobjIdsEntry *ids,
					     bool shared_fds, bool parent_vm)
{
	pid_t pid = ctx.pid();
	pr_info("Dumping task (pid: {})", pid);
	TRY(dump_cores(ctx, ps));
	std::optional<MemoryJob> mem;
	if (parent_vm)
		pr_info("{} shares its parent's memory (vm id {})", pid, ids->vm_id);
	else
		mem = TRY(dump_mm(ctx, ps));
	if (shared_fds) {
		pr_info("{} shares the fd table of an earlier task (files id {})", pid, ids->files_id);
		ctx.files.saw_task(pid);
	} else {
		TRY_CTX(ctx.files.dump_fds(pid, ids->files_id, ctx.opts), "fds of {}", pid);
	}
	TRY(dump_fs(ctx, ps));
	TRY(write_one(ctx.dir, img::Kind::Ids, uint64_t(pid), ids->base));
	return mem;
}

Result<compel::SeizedProcess> seize(pid_t pid, const Options &opts)
{
	ProcStat st = TRY_CTX(parse_stat(pid), "task {}", pid);
	if (st.state == 'Z')
		return fail(EINVAL, "task {} is a zombie: there is nothing to dump", pid);
	auto p = compel::SeizedProcess::seize(pid, std::chrono::seconds(opts.timeout));
	if (!p && p.error().code() == EPERM)
		return fail(EPERM, "can't seize task {}: {} (is it traced already, or protected by yama/LSM?)", pid,
			    p.error().describe());
	return TRY_CTX(std::move(p), "can't seize task {}", pid);
}

Result<SeizedTree> seize_tree(const Options &opts)
{
	SeizedTree t;
	t.tasks.push_back(TRY(seize(opts.tree, opts)));
	t.parents[opts.tree] = 0;
	for (size_t i = 0; i < t.tasks.size(); i++) {
		pid_t parent = t.tasks[i].pid();
		for (pid_t c : TRY(children_of(parent))) {
			t.parents[c] = parent;
			ProcStat st = TRY_CTX(parse_stat(c), "task {}", c);
			if (st.state == 'Z')
				t.zombies.emplace_back(c, st);
			else
				t.tasks.push_back(TRY(seize(c, opts)));
		}
	}
	return t;
}

// The topmost task whose fd table or fs (kcmp_type) pid shares, going up through its parents.
pid_t sharing_top(const SeizedTree &t, pid_t pid, int kcmp_type)
{
	for (pid_t up = t.parents.at(pid); up && shares(pid, up, kcmp_type); up = t.parents.at(up))
		pid = up;
	return pid;
}

// Position of pid in the seizing order, which is pstree.img's.
size_t order_of(const SeizedTree &t, pid_t pid)
{
	for (size_t i = 0; i < t.tasks.size(); i++)
		if (t.tasks[i].pid() == pid)
			return i;
	return t.tasks.size();
}

// Tasks a and b, the topmost of their chains of sharing children, share their fd table or fs
// (what): restore rebuilds it only for siblings sharing the fd table (and maybe the fs with it),
// the first forking the other, which gets its session and fs (restore-shared.cc).
Result<> check_sibling_share(const SeizedTree &t, pid_t a, pid_t b, const char *what)
{
	if (order_of(t, b) < order_of(t, a))
		std::swap(a, b);
	pid_t parent = t.parents.at(a);
	if (t.parents.at(b) != parent)
		return fail(EOPNOTSUPP, "tasks {} and {} share their {}, but not through a parent and are not "
			    "siblings: not supported", a, b, what);
	if (!shares(a, b, KCMP_FILES))
		return fail(EOPNOTSUPP, "siblings {} and {} share their fs, but not their fd table: not supported",
			    a, b);
	if (shares(b, parent, KCMP_FS) && !shares(b, a, KCMP_FS))
		return fail(EOPNOTSUPP, "task {} shares the fd table of its sibling {} and the fs of its parent: "
			    "not supported", b, a);
	ProcStat sa = TRY_CTX(parse_stat(a), "task {}", a), sb = TRY_CTX(parse_stat(b), "task {}", b);
	if (sa.sid != sb.sid && sb.sid != b)
		return fail(EOPNOTSUPP, "siblings {} and {} share their fd table, but are in sessions {} and {}: "
			    "not supported", a, b, sa.sid, sb.sid);
	return {};
}

// Processes (not threads) may share an fd table or fs with their parent (CLONE_FILES,
// CLONE_FS), directly or through a chain of parents: restore forks the child with the flag. The
// topmost tasks of such chains may share an fd table (and fs) if they are siblings: restore's
// first sibling forks the others (CLONE_PARENT), so it must be in their session. Memory and
// signal handlers (CLONE_VM, CLONE_SIGHAND) only with the parent, in the form check_clone_vm
// allows (CRIU refuses them).
Result<> check_shared(const SeizedTree &t)
{
	constexpr struct {
		int type;
		const char *what;
		bool with_parent; // restored when shared along the parent chain
		bool siblings;    // and between the topmost tasks of such chains
	} kinds[] = {{KCMP_VM, "memory (CLONE_VM)", true, false},
		     {KCMP_FILES, "fd table (CLONE_FILES)", true, true},
		     {KCMP_FS, "fs (CLONE_FS)", true, true},
		     {KCMP_SIGHAND, "signal handlers (CLONE_SIGHAND)", true, false}};
	std::vector<pid_t> pids;
	for (const compel::SeizedProcess &p : t.tasks)
		pids.push_back(p.pid());
	for (const auto &k : kinds) {
		// kcmp orders the kernel objects too: sorted, the tasks sharing one are neighbours.
		std::sort(pids.begin(), pids.end(),
			  [&](pid_t a, pid_t b) { return syscall(SYS_kcmp, a, b, k.type, 0, 0) == 1; });
		for (size_t i = 1; i < pids.size(); i++) {
			pid_t a = pids[i - 1], b = pids[i];
			if (!shares(a, b, k.type))
				continue;
			if (!k.with_parent)
				return fail(EOPNOTSUPP, "tasks {} and {} share their {}: not supported", a, b, k.what);
			pid_t ta = sharing_top(t, a, k.type), tb = sharing_top(t, b, k.type);
			if (ta != tb && !k.siblings)
				return fail(EOPNOTSUPP, "tasks {} and {} share their {}, but not through a parent: "
					    "not supported (only a child sharing its parent's is)", a, b, k.what);
			if (ta != tb)
				TRY(check_sibling_share(t, ta, tb, k.what));
		}
	}
	return check_clone_vm(t.parents, pids);
}

// Task pid is in a group or session (id) whose leader is not in the tree: it must be dead and
// its id free (restore rebuilds it with a helper, see pstree.h).
Result<> check_dead_leader(pid_t pid, pid_t id, const char *what)
{
	if (kill(id, 0) == 0 || errno != ESRCH)
		return fail(EOPNOTSUPP, "task {} is in {} {}, whose leader is alive outside the tree: not "
			    "supported", pid, what, id);
	pr_info("task {} is in {} {}, whose leader is dead: restore adds a helper", pid, what, id);
	return {};
}

// The tree as pstree.img will list it: the live tasks (root first), then the zombies.
Result<std::vector<PstreeItem>> pstree_items(const SeizedTree &t, const std::set<pid_t> &subreapers = {})
{
	std::vector<PstreeItem> items;
	for (const compel::SeizedProcess &p : t.tasks) {
		ProcStat st = TRY_CTX(parse_stat(p.pid()), "task {}", p.pid());
		items.push_back(PstreeItem{p.pid(), t.parents.at(p.pid()), st.pgid, st.sid, false,
					   subreapers.count(p.pid()) > 0});
	}
	for (const auto &[pid, st] : t.zombies)
		items.push_back(PstreeItem{pid, t.parents.at(pid), st.pgid, st.sid, true, false});
	return items;
}

// Every task's process group has its leader in the tree (a live task or a zombie), or is the
// shell's (the root's group, under --shell-job), or has lost its leader, whose id nobody uses
// any more: restore rebuilds that group with a helper task (see pstree.h; check_pstree_plan
// checks it can). A group whose leader lives outside the tree is refused: restore could not
// take its id. Sessions alike, but the root's session may be any (restore_session checks it).
Result<> check_groups(const SeizedTree &t, const Options &opts)
{
	std::vector<PstreeItem> items = TRY(pstree_items(t));
	const PstreeItem &root = items.front();
	if (!t.parents.count(root.pgid) && !opts.shell_job)
		return fail(EOPNOTSUPP, "task {} is in process group {}, whose leader is not in the tree: not "
			    "supported yet (--shell-job if it is the shell's)", root.pid, root.pgid);
	for (const PstreeItem &it : items) {
		bool dead_session = !t.parents.count(it.sid) && it.sid != root.sid;
		if (dead_session)
			TRY(check_dead_leader(it.pid, it.sid, "session"));
		if (t.parents.count(it.pgid) || it.pgid == root.pgid || (dead_session && it.pgid == it.sid))
			continue; // the last: the session's helper leads it
		TRY(check_dead_leader(it.pid, it.pgid, "process group"));
	}
	return {};
}

// Restore can fork every task in its session and group, with the helpers it will plan (which
// need to know the child subreapers, which the parasites told).
Result<> check_pstree_plan(const SeizedTree &t, const std::set<pid_t> &subreapers, const Options &opts)
{
	std::vector<PstreeItem> items = TRY(pstree_items(t, subreapers));
	TRY(plan_pstree(items, opts));
	return {};
}

// Kills the frozen task (it dies without running again) or lets it continue.
Result<> finish_task(compel::SeizedProcess &proc, bool leave_running)
{
	pid_t pid = proc.pid();
	if (leave_running) {
		TRY_CTX(proc.release(), "release task {}", pid);
		return {};
	}
	if (kill(pid, SIGKILL) < 0)
		return fail_errno("kill task {}", pid);
	if (auto r = proc.release(); !r)
		pr_debug("detach from killed task {}: {}", pid, r.error().describe());
	return {};
}

Result<> finish_tree(SeizedTree &t, bool leave_running)
{
	for (compel::SeizedProcess &p : t.tasks)
		TRY(finish_task(p, leave_running));
	return {};
}

Result<> dump_tree(const Options &opts)
{
	pid_t pid = opts.tree;
	if (pid <= 0)
		return fail(EINVAL, "no task to dump: use -t PID");
	if (geteuid() != 0)
		return fail(EPERM, "criu dump must run as root (it needs CAP_SYS_PTRACE and CAP_SYS_ADMIN)");
	ImageDir dir = TRY_CTX(opts.encrypt ? ImageDir::create(opts.images_dir, opts.seal_certs())
					    : ImageDir::create(opts.images_dir),
			       "images directory {}", opts.images_dir);
	FilesDumper files = TRY(FilesDumper::create(dir));

	TRY(run_action_scripts(opts, ScriptAction::PreDump, pid));
	Timings t;
	auto t0 = Clock::now();
	SeizedTree tree = TRY(seize_tree(opts));
	// Destroyed before tree (which lets the tasks go on a failure): no task may run while its
	// connections are in repair mode or locked.
	struct ResumeGuard {
		FilesDumper &f;
		~ResumeGuard() { f.tasks_resume(); }
	} resume_guard{files};
	auto frozen_at = Clock::now();
	t.freezing_us = usec(frozen_at - t0);
	TRY(check_shared(tree));
	TRY(check_groups(tree, opts));

	std::deque<DumpContext> tasks;
	MemDumpQueue memory(dir); // destroyed (its thread joined) before the tasks may run again
	TaskKobjIdsEntry *root_ids = nullptr;
	std::map<pid_t, const TaskKobjIdsEntry *> all_ids;
	std::set<pid_t> subreapers;
	for (compel::SeizedProcess &proc : tree.tasks) {
		uint32_t n = uint32_t(tasks.size()) + kFirstId;
		DumpContext &ctx = tasks.emplace_back(
			DumpContext{.opts = opts, .dir = dir, .proc = proc, .files = files, .pages_id = n});
		pid_t ppid = tree.parents.at(proc.pid());
		auto parent_it = all_ids.find(ppid);
		const TaskKobjIdsEntry *parent = parent_it != all_ids.end() ? parent_it->second : nullptr;
		TaskKobjIdsEntry *ids = make_ids(ctx.arena, proc.pid(), n, ppid, all_ids);
		bool parent_vm = parent && parent->vm_id == ids->vm_id;
		if (parent_vm) // our parasite must not be in the shared memory while its pages are read
			TRY(memory.wait_idle());
		TaskParasiteState ps = TRY(collect_parasite_state(proc));
		if (ps.child_subreaper)
			subreapers.insert(proc.pid());
		auto job = TRY(dump_frozen(ctx, ps, ids, ids->files_id != n, parent_vm));
		if (job)
			memory.push(std::move(*job));
		TRY(memory.check());
		all_ids[proc.pid()] = ids;
		if (!root_ids)
			root_ids = ids;
	}
	TRY(check_pstree_plan(tree, subreapers, opts));
	TRY(files.check_inherited(tree.parents));
	TRY(dump_pstree(dir, tasks.front().arena, tasks, tree));
	TRY_CTX(files.close(opts), "files of {}", pid);
	MemDumpResult mem = TRY(memory.finish());

	if (opts.leave_running) {
		files.tasks_resume();
		TRY(finish_tree(tree, true));
	}
	t.frozen_us = usec(Clock::now() - frozen_at);
	TRY(dump_stats(dir, tasks.front().arena, t, mem));
	TRY(dump_inventory(dir, tasks.front().arena, root_ids));
	TRY(run_action_scripts(opts, ScriptAction::PostDump, pid)); // a failure leaves the tasks running
	if (!opts.leave_running) {
		TRY(finish_tree(tree, false));
		files.tasks_killed();
	}
	return {};
}

} // namespace

int cr_dump(const Options &opts)
{
	pr_info("Dumping processes (pid: {})", opts.tree);
	auto r = dump_tree(opts);
	if (!r) {
		pr_err("{}", r.error().describe());
		pr_err("Dumping FAILED.");
		return 1;
	}
	pr_info("Dumping finished successfully");
	return 0;
}

} // namespace criu
