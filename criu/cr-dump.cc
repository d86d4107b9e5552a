// criu dump of one process with any number of threads: seize, ask the parasite, cure, dump
// memory and files, write the images, then kill the task or (-R) let it go. Any failure
// releases the task untouched and leaves no inventory.img behind.
#define LOG_PREFIX "dump: "
#include "cr-dump.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "action-scripts.h"
#include "common/log.h"
#include "common/xio.h"
#include "dump-context.h"
#include "fs.pb-c.h"
#include "inventory.pb-c.h"
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

// Process trees come later: a task with children is refused, before and after freezing.
Result<> check_no_children(pid_t pid)
{
	std::string dir = fmt::format("/proc/{}/task", pid);
	auto tids = xio::read_file(fmt::format("/proc/{}/task/{}/children", pid, pid));
	if (!tids)
		return fail(tids.error().code(), "task {} not found", pid);
	for (const auto &tid : std::filesystem::directory_iterator(dir)) {
		auto kids = xio::read_file(tid.path().string() + "/children");
		if (kids && kids->find_first_not_of(" \n") != std::string::npos)
			return fail(EOPNOTSUPP, "Task {} has children; process trees are not supported yet", pid);
	}
	return {};
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

TaskKobjIdsEntry *make_ids(PbArena &a, pid_t pid)
{
	TaskKobjIdsEntry *ids = a.make(task_kobj_ids_entry__init);
	ids->vm_id = ids->files_id = ids->fs_id = ids->sighand_id = kFirstId;
	add_ns_ids(*ids, pid);
	return ids;
}

Result<> dump_pstree(DumpContext &ctx)
{
	ProcStat st = TRY(parse_stat(ctx.pid()));
	PstreeEntry *e = ctx.arena.make(pstree_entry__init);
	e->pid = uint32_t(ctx.pid());
	e->ppid = 0;
	e->pgid = uint32_t(st.pgid);
	e->sid = uint32_t(st.sid);
	std::vector<uint32_t> tids;
	for (pid_t t : ctx.proc.threads())
		tids.push_back(uint32_t(t));
	e->n_threads = tids.size();
	e->threads = ctx.arena.array(tids);
	return write_one(ctx.dir, img::Kind::Pstree, 0, e->base);
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

// Everything written while the task is frozen and cured; returns the memory statistics.
Result<MemDumpResult> dump_frozen(DumpContext &ctx, const TaskParasiteState &ps, TaskKobjIdsEntry *ids)
{
	pid_t pid = ctx.pid();
	TRY(dump_cores(ctx, ps));
	MemDumpResult mem = TRY(dump_mm(ctx, ps));
	TRY_CTX(ctx.files.dump_fds(pid, ids->files_id, ctx.opts.shell_job), "fds of {}", pid);
	TRY(dump_fs(ctx, ps));
	TRY(write_one(ctx.dir, img::Kind::Ids, uint64_t(pid), ids->base));
	TRY(dump_pstree(ctx));
	TRY_CTX(ctx.files.close(), "files of {}", pid);
	return mem;
}

Result<compel::SeizedProcess> seize(const Options &opts)
{
	auto p = compel::SeizedProcess::seize(opts.tree, std::chrono::seconds(opts.timeout));
	if (!p && p.error().code() == EPERM)
		return fail(EPERM, "can't seize task {}: {} (is it traced already, or protected by yama/LSM?)",
			    opts.tree, p.error().describe());
	return TRY_CTX(std::move(p), "can't seize task {}", opts.tree);
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

Result<> dump_task(const Options &opts)
{
	pid_t pid = opts.tree;
	if (pid <= 0)
		return fail(EINVAL, "no task to dump: use -t PID");
	if (geteuid() != 0)
		return fail(EPERM, "criu dump must run as root (it needs CAP_SYS_PTRACE and CAP_SYS_ADMIN)");
	TRY(check_no_children(pid));
	ImageDir dir = TRY_CTX(opts.encrypt ? ImageDir::create(opts.images_dir, opts.seal_certs())
					    : ImageDir::create(opts.images_dir),
			       "images directory {}", opts.images_dir);
	FilesDumper files = TRY(FilesDumper::create(dir));

	TRY(run_action_scripts(opts, ScriptAction::PreDump, pid));
	Timings t;
	auto t0 = Clock::now();
	compel::SeizedProcess proc = TRY(seize(opts));
	auto frozen_at = Clock::now();
	t.freezing_us = usec(frozen_at - t0);
	TRY(check_no_children(pid));

	DumpContext ctx{.opts = opts, .dir = dir, .proc = proc, .files = files};
	TaskParasiteState ps = TRY(collect_parasite_state(proc));
	TaskKobjIdsEntry *ids = make_ids(ctx.arena, pid);
	MemDumpResult mem = TRY(dump_frozen(ctx, ps, ids));

	if (opts.leave_running)
		TRY(finish_task(proc, true));
	t.frozen_us = usec(Clock::now() - frozen_at);
	TRY(dump_stats(dir, ctx.arena, t, mem));
	TRY(dump_inventory(dir, ctx.arena, ids));
	TRY(run_action_scripts(opts, ScriptAction::PostDump, pid)); // a failure leaves the task running
	if (!opts.leave_running)
		TRY(finish_task(proc, false));
	return {};
}

} // namespace

int cr_dump(const Options &opts)
{
	pr_info("Dumping processes (pid: {})", opts.tree);
	pr_info("Dumping task (pid: {})", opts.tree);
	auto r = dump_task(opts);
	if (!r) {
		pr_err("{}", r.error().describe());
		pr_err("Dumping FAILED.");
		return 1;
	}
	pr_info("Dumping finished successfully");
	return 0;
}

} // namespace criu
