// mm-PID.img (the address space: mm fields of /proc/PID/stat, auxv, every VMA) and the task's
// private memory into pagemap-PID.img + pages-1.img.
#define LOG_PREFIX "dump: "
#include <fcntl.h>
#include <sys/mman.h>

#include <chrono>

#include "common/log.h"
#include "common/xio.h"
#include "dump-context.h"
#include "shmem.h"
#include "mem.h"
#include "mm.pb-c.h"

namespace criu {
namespace {


uint32_t usec_since(std::chrono::steady_clock::time_point t)
{
	auto d = std::chrono::steady_clock::now() - t;
	return uint32_t(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

Result<std::vector<uint64_t>> read_auxv(pid_t pid)
{
	std::string raw = TRY(xio::read_file(fmt::format("/proc/{}/auxv", pid)));
	std::vector<uint64_t> words(raw.size() / 8);
	std::memcpy(words.data(), raw.data(), words.size() * 8);
	return words;
}

// The shmid CRIU records: the file's id for file mappings, the shmem inode for shared
// anonymous memory and SysV segments, 0 otherwise.
Result<uint64_t> vma_shmid(DumpContext &ctx, const Vma &v)
{
	using namespace vma_status;
	if (v.is(kFilePrivate) || v.is(kFileShared))
		return uint64_t(TRY(ctx.files.dump_mapped_file(ctx.pid(), v)));
	if (v.is(kAnonShared))
		return v.ino;
	return 0;
}

Result<VmaEntry *> make_vma(DumpContext &ctx, const Vma &v)
{
	VmaEntry *e = ctx.arena.make(vma_entry__init);
	e->start = v.start, e->end = v.end, e->pgoff = v.pgoff;
	e->shmid = TRY_CTX(vma_shmid(ctx, v), "vma {:#x}-{:#x} {}", v.start, v.end, v.path);
	e->prot = v.prot, e->flags = v.flags, e->status = v.status;
	e->fd = -1;
	if (v.madv) {
		e->has_madv = true;
		e->madv = v.madv;
	}
	if (v.is(vma_status::kFilePrivate) || v.is(vma_status::kFileShared)) {
		e->has_fdflags = true;
		e->fdflags = (v.flags & MAP_SHARED) && (v.prot & PROT_WRITE) ? O_RDWR : O_RDONLY;
	}
	return e;
}

Result<MmEntry *> make_mm(DumpContext &ctx, const TaskParasiteState &ps, const std::vector<Vma> &vmas)
{
	PbArena &a = ctx.arena;
	pid_t pid = ctx.pid();
	ProcStat st = TRY(parse_stat(pid));
	MmEntry *mm = a.make(mm_entry__init);
	mm->mm_start_code = st.start_code, mm->mm_end_code = st.end_code;
	mm->mm_start_data = st.start_data, mm->mm_end_data = st.end_data;
	mm->mm_start_stack = st.start_stack;
	mm->mm_start_brk = st.start_brk, mm->mm_brk = ps.brk;
	mm->mm_arg_start = st.arg_start, mm->mm_arg_end = st.arg_end;
	mm->mm_env_start = st.env_start, mm->mm_env_end = st.env_end;
	mm->exe_file_id = TRY_CTX(ctx.files.dump_exe(pid), "exe of {}", pid);
	std::vector<uint64_t> auxv = TRY(read_auxv(pid));
	mm->n_mm_saved_auxv = auxv.size();
	mm->mm_saved_auxv = a.array(auxv);
	mm->n_vmas = vmas.size();
	mm->vmas = a.pointers<VmaEntry>(vmas.size());
	for (size_t i = 0; i < vmas.size(); i++)
		mm->vmas[i] = TRY(make_vma(ctx, vmas[i]));
	mm->has_dumpable = true;
	mm->dumpable = ps.misc.dumpable;
	if (auto status = xio::read_file(fmt::format("/proc/{}/status", pid)); status) {
		size_t at = status->find("\nTHP_enabled:");
		if (at != std::string::npos) {
			mm->has_thp_disabled = true;
			mm->thp_disabled = strtol(status->c_str() + at + 13, nullptr, 10) == 0;
		}
	}
	return mm;
}

} // namespace

Result<MemoryJob> dump_mm(DumpContext &ctx, const TaskParasiteState &ps)
{
	pid_t pid = ctx.pid();
	std::vector<Vma> vmas = TRY_CTX(parse_maps(pid), "task {}", pid);
	TRY_CTX(parse_smaps_vmflags(pid, vmas), "task {}", pid);
	MmEntry *mm = TRY_CTX(make_mm(ctx, ps, vmas), "mm-{}.img", pid);
	ImageWriter w = TRY(ctx.dir.create_image(img::Kind::Mm, uint64_t(pid)));
	TRY_CTX(w.write(mm->base), "{}", w.name());
	TRY_CTX(w.close(), "{}", w.name());
	return MemoryJob{.pid = pid, .pages_id = ctx.pages_id, .vmas = std::move(vmas)};
}

Result<MemDumpResult> dump_memory(const MemoryJob &job, ImageDir &dir, PageBuffers &buffers,
				  std::set<uint64_t> &shmem_done)
{
	pid_t pid = job.pid;
	MemDumpResult r;
	MemDumpStats stats;
	auto t0 = std::chrono::steady_clock::now();
	std::vector<PageRun> runs = TRY_CTX(collect_dumpable_pages(pid, job.vmas, stats), "memory of {}", pid);
	r.memdump_us = usec_since(t0);
	auto t1 = std::chrono::steady_clock::now();
	TRY_CTX(dump_pages(pid, runs, dir, job.pages_id, buffers, stats), "memory of {}", pid);
	// Each task's segments get pages ids of their own; a segment shared by tasks is saved once.
	stats.pages_written += TRY(dump_shmem(pid, job.vmas, dir, kShmemPagesIdBase + (job.pages_id - 1) * 0x1000,
						  shmem_done));
	r.memwrite_us = usec_since(t1);
	r.pages_scanned = stats.pages_scanned;
	r.pages_skipped = stats.pages_skipped;
	r.pages_written = stats.pages_written;
	pr_info("Dumped {} pages of {} ({} scanned)", r.pages_written, pid, r.pages_scanned);
	return r;
}

} // namespace criu
