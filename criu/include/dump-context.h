// What every step of `criu dump` of one task works with, passed by reference: the options, the
// images directory, the seized task, the files dumper and the arena the messages live in. And
// what is collected from inside the task while it is infected, for the images written later.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <set>
#include <vector>

#include "arch-x86.h"
#include "compel/parasite-abi.h"
#include "compel/task.h"
#include "dump-arena.h"
#include "files.h"
#include "image-dir.h"
#include "page-xfer.h"
#include "options.h"
#include "proc-parse.h"
#include "vma.h"

namespace criu {

// What only a thread itself can tell (remote system calls in that thread).
struct ThreadParasiteState {
	pid_t tid = 0;
	uint64_t clear_tid_addr = 0; // PR_GET_TID_ADDRESS
	uint64_t ss_sp = 0, ss_size = 0; // sigaltstack
	uint32_t ss_flags = 0;
	uint32_t pdeath_sig = 0;     // PR_GET_PDEATHSIG
	uint32_t secbits = 0;        // PR_GET_SECUREBITS
};

struct PosixTimerState {
	ProcPosixTimer proc;
	uint64_t isec = 0, insec = 0, vsec = 0, vnsec = 0; // timer_gettime: interval, value
	uint32_t overrun = 0;                               // timer_getoverrun
};

// What only the task can tell (parasite commands, remote system calls in the leader).
struct TaskParasiteState {
	parasite_sigacts_args sigacts{};
	parasite_misc_args misc{};
	uint64_t brk = 0;
	bool child_subreaper = false;
	std::vector<PosixTimerState> posix_timers;
	std::vector<ThreadParasiteState> threads; // the leader first
};

struct DumpContext {
	const Options &opts;
	ImageDir &dir;
	compel::SeizedProcess &proc;
	FilesDumper &files;
	PbArena arena;
	uint32_t pages_id = 1; // of this task's private pages (pages-N.img)
	XsaveLayout xsave_layout = XsaveLayout::from_cpuid();

	pid_t pid() const { return proc.pid(); }
};

// dump-parasite.cc: infects the task, asks everything above, cures it.
[[nodiscard]] Result<TaskParasiteState> collect_parasite_state(compel::SeizedProcess &proc);

// dump-core.cc: core-TID.img of every thread (and seccomp.img when a thread has filters).
[[nodiscard]] Result<> dump_cores(DumpContext &ctx, const TaskParasiteState &ps);
// dump-core.cc: core-PID.img of a zombie (exited, not waited for), as CRIU writes it: only the
// task core, task_state TASK_DEAD and exit_code the wait status (/proc/PID/stat field 52). A
// zombie has no other image: no memory, files or threads are left.
[[nodiscard]] Result<> dump_zombie_core(ImageDir &dir, PbArena &a, pid_t pid, const ProcStat &st);

// dump-mm.cc: mm-PID.img now, and what is left to save of the task's memory: its pages
// (pagemap-PID.img, pages-<pages_id>.img) and shared segments, a job for the MemDumpQueue.
struct MemoryJob {
	pid_t pid = 0;
	uint32_t pages_id = 1;
	std::vector<Vma> vmas;
};
[[nodiscard]] Result<MemoryJob> dump_mm(DumpContext &ctx, const TaskParasiteState &ps);

struct MemDumpResult {
	uint64_t pages_scanned = 0, pages_skipped = 0, pages_written = 0;
	uint32_t memdump_us = 0, memwrite_us = 0;
};
MemDumpResult &operator+=(MemDumpResult &a, const MemDumpResult &b);
// dump-mm.cc: the job's pages and shared segments (a segment in shmem_done is not saved again).
// Needs the task frozen, not the tracer: any thread may run it.
[[nodiscard]] Result<MemDumpResult> dump_memory(const MemoryJob &job, ImageDir &dir, PageBuffers &buffers,
						std::set<uint64_t> &shmem_done);

} // namespace criu
