// Reading a task's images before anything is restored.
#define LOG_PREFIX "restore: "
#include "restore.h"

#include <dirent.h>
#include <sys/wait.h>

#include <memory>

#include "common/log.h"
#include "mem.h"
#include "inventory.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"

namespace criu {

namespace {

// The single entry of an image that must have exactly one.
Result<PbMsg> read_one(ImageDir &dir, img::Kind kind, uint64_t id)
{
	ImageReader r = TRY(dir.open_image(kind, id));
	auto msg = TRY(r.read());
	if (!msg)
		return fail(EINVAL, "{}: no entry", r.name());
	if (TRY(r.read()))
		return fail(EINVAL, "{}: more than one entry", r.name());
	return std::move(*msg);
}

Result<> check_core(const ThreadImages &t, bool leader)
{
	const CoreEntry &c = t.entry();
	if (c.mtype != CORE_ENTRY__MARCH__X86_64 || !c.thread_info || !c.thread_info->gpregs ||
	    !c.thread_info->fpregs)
		return fail(EINVAL, "core-{}.img: not an x86_64 thread with registers", t.tid);
	if (!c.thread_core || !c.thread_core->creds)
		return fail(EINVAL, "core-{}.img: no thread core or credentials", t.tid);
	if (c.thread_info->gpregs->has_mode && c.thread_info->gpregs->mode != USER_X86_REGS_MODE__NATIVE)
		return fail(EINVAL, "core-{}.img: 32-bit tasks are not supported", t.tid);
	if (leader && !c.tc)
		return fail(EINVAL, "core-{}.img: the leader has no task core", t.tid);
	return {};
}

Result<> read_pagemap(ImageDir &dir, TaskImages &t)
{
	ImageReader r = TRY(dir.open_image(img::Kind::Pagemap, uint64_t(t.pid)));
	auto head = TRY(r.read(&pagemap_head__descriptor));
	if (!head)
		return fail(EINVAL, "{}: no head", r.name());
	t.pages_id = pb_cast<PagemapHead>(*head)->pages_id;
	while (auto e = TRY(r.read())) {
		const PagemapEntry &pe = *pb_cast<PagemapEntry>(*e);
		if (pe.vaddr % 4096 || pe.nr_pages == 0)
			return fail(EINVAL, "{}: bad entry at {:#x} ({} pages)", r.name(), pe.vaddr, pe.nr_pages);
		if (pe.has_flags && (pe.flags & kPeGuard))
			t.guards.push_back({pe.vaddr, pe.nr_pages});
		else
			t.pagemap.push_back({pe.vaddr, pe.nr_pages});
	}
	return {};
}

// Reads every entry of an image whose contents restore would otherwise not look at.
Result<> verify_image(ImageDir &dir, const std::string &name)
{
	ImageReader r = TRY(dir.open_image_file(name));
	if (r.kind().extra == img::Extra::PipeData || r.kind().extra == img::Extra::GhostFile ||
	    r.kind().extra == img::Extra::SkPacket ||
	    r.kind().extra == img::Extra::TcpStream)
		return {}; // read in full where they are used
	const ProtobufCMessageDescriptor *first = r.kind().head_desc;
	while (TRY(r.read(first)))
		first = nullptr;
	return {};
}

} // namespace

Result<> verify_sealed_images(ImageDir &dir)
{
	if (!dir.sealed())
		return {};
	std::unique_ptr<DIR, int (*)(DIR *)> d(opendir(dir.path().c_str()), closedir);
	if (!d)
		return fail_errno("can't list {}", dir.path());
	while (dirent *e = readdir(d.get())) {
		std::string name = e->d_name;
		bool image = name.ends_with(".img") || name == "stats-dump" || name == "stats-restore";
		if (!image || name == kCipherImage || name.starts_with("pages-") || name.starts_with("pagetags-"))
			continue; // pages are checked page by page as they are read
		if (dir.read_to_end(name))
			continue; // already read and authenticated to its end
		TRY(verify_image(dir, name));
	}
	return {};
}

Result<> load_page_tags(ImageDir &dir, const std::vector<TaskPlan> &tasks)
{
	if (!dir.sealed())
		return {};
	for (const TaskPlan &t : tasks)
		if (!t.images.zombie && !t.images.vm_child) // a CLONE_VM child's pages are its parent's
			TRY_CTX(dir.open_pages(t.images.pages_id), "task {}", t.images.pid);
	return {};
}

namespace {

// A zombie's core: the task core only, task_state TASK_DEAD (see dump_zombie_core). True if pe is one.
Result<bool> read_zombie(ImageDir &dir, const PstreeEntry &pe, TaskImages &t)
{
	PbMsg core = TRY(read_one(dir, img::Kind::Core, pe.pid));
	const CoreEntry &c = *pb_cast<CoreEntry>(core);
	if (!c.tc || c.tc->task_state != kTaskDead)
		return false;
	if (pe.n_threads != 1)
		return fail(EINVAL, "pstree.img: zombie {} lists {} threads", pe.pid, pe.n_threads);
	if (!WIFEXITED(int(c.tc->exit_code)) && !WIFSIGNALED(int(c.tc->exit_code)))
		return fail(EINVAL, "core-{}.img: zombie with wait status {:#x}", pe.pid, c.tc->exit_code);
	t.zombie = true;
	t.threads.push_back(ThreadImages{t.pid, std::move(core)});
	return true;
}

Result<TaskImages> read_task(ImageDir &dir, const PstreeEntry &pe, PbMsg &seccomp, const TaskImages *parent)
{
	if (pe.n_threads == 0 || pe.threads[0] != pe.pid)
		return fail(EINVAL, "pstree.img: task {} does not list itself as its first thread", pe.pid);
	TaskImages t;
	t.pid = pid_t(pe.pid);
	t.ppid = pid_t(pe.ppid);
	t.pgid = pid_t(pe.pgid);
	t.sid = pid_t(pe.sid);
	if (TRY(read_zombie(dir, pe, t)))
		return t;
	for (size_t i = 0; i < pe.n_threads; i++) {
		ThreadImages th{pid_t(pe.threads[i]), TRY(read_one(dir, img::Kind::Core, pe.threads[i]))};
		TRY(check_core(th, i == 0));
		t.threads.push_back(std::move(th));
	}
	t.ids = TRY(read_one(dir, img::Kind::Ids, uint64_t(t.pid)));
	// A CLONE_VM child has its parent's memory: no mm or pagemap of its own (clone-vm.h).
	t.vm_child = parent && !parent->zombie && parent->ids_entry().vm_id == t.ids_entry().vm_id;
	if (!t.vm_child)
		t.mm = TRY(read_one(dir, img::Kind::Mm, uint64_t(t.pid)));
	t.fs = TRY(read_one(dir, img::Kind::Fs, uint64_t(t.pid)));
	if (!t.vm_child)
		TRY(read_pagemap(dir, t));
	bool filters = false;
	for (const ThreadImages &th : t.threads)
		filters |= th.thread_core().has_seccomp_mode && th.thread_core().seccomp_mode == SECCOMP_MODE__filter;
	if (filters) {
		if (!seccomp)
			seccomp = TRY(read_one(dir, img::Kind::Seccomp, 0));
		t.seccomp = &seccomp;
	}
	for (const ThreadImages &th : t.threads)
		TRY(t.seccomp_chain(th));
	return t;
}

} // namespace

Result<TreeImages> read_tree_images(ImageDir &dir)
{
	auto inventory = TRY_CTX(read_one(dir, img::Kind::Inventory, 0), "not a complete checkpoint");
	if (pb_cast<InventoryEntry>(inventory)->img_version != 2)
		return fail(EINVAL, "inventory.img: image version {} is not supported",
			    pb_cast<InventoryEntry>(inventory)->img_version);

	TreeImages tree;
	ImageReader pstree = TRY(dir.open_image(img::Kind::Pstree));
	while (auto e = TRY(pstree.read())) {
		const PstreeEntry &pe = *pb_cast<PstreeEntry>(*e);
		bool parent_known = tree.tasks.empty(); // the root's parent is outside the checkpoint
		const TaskImages *parent = nullptr;
		for (const TaskImages &t : tree.tasks) {
			if (t.pid == pid_t(pe.ppid) && t.zombie)
				return fail(EINVAL, "pstree.img: task {} is the child of zombie {}", pe.pid, pe.ppid);
			parent_known |= t.pid == pid_t(pe.ppid);
			if (t.pid == pid_t(pe.ppid))
				parent = &t;
		}
		if (!parent_known)
			return fail(EINVAL, "pstree.img: the parent {} of task {} comes after it or is missing", pe.ppid,
				    pe.pid);
		tree.tasks.push_back(TRY(read_task(dir, pe, *tree.seccomp, parent)));
	}
	if (tree.tasks.empty())
		return fail(EINVAL, "pstree.img: no tasks");
	if (tree.tasks.front().zombie)
		return fail(EINVAL, "pstree.img: the root task {} is a zombie", tree.tasks.front().pid);
	return tree;
}

Result<std::vector<const SeccompFilter *>> TaskImages::seccomp_chain(const ThreadImages &t) const
{
	const ThreadCoreEntry &tc = t.thread_core();
	std::vector<const SeccompFilter *> chain;
	if (!tc.has_seccomp_mode || tc.seccomp_mode != SECCOMP_MODE__filter)
		return chain;
	const SeccompEntry &e = *pb_cast<SeccompEntry>(*seccomp);
	for (uint32_t i = tc.seccomp_filter;; i = e.seccomp_filters[i]->prev) {
		if (i >= e.n_seccomp_filters || chain.size() > e.n_seccomp_filters)
			return fail(EINVAL, "seccomp.img: bad filter chain of thread {}", t.tid);
		const SeccompFilter *f = e.seccomp_filters[i];
		if (f->filter.len % 8 || f->filter.len == 0 || f->filter.len / 8 > 4096)
			return fail(EINVAL, "seccomp.img: filter {} is not a BPF program", i);
		chain.insert(chain.begin(), f);
		if (!f->has_prev)
			break;
	}
	return chain;
}

} // namespace criu
