#define LOG_PREFIX ""
#include "cr-check.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "common/xio.h"

namespace criu {

namespace {

// Soft-dirty tracking: clear the bits, write a page, see bit 55 of its pagemap entry.
Result<bool> probe_soft_dirty()
{
	void *p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail_errno("mmap");
	*static_cast<volatile char *>(p) = 1;
	auto clear = xio::open("/proc/self/clear_refs", O_WRONLY);
	bool ok = false;
	if (clear && xio::write_full(clear->borrow(), xio::as_bytes("4", 1))) {
		*static_cast<volatile char *>(p) = 2;
		auto pm = xio::open("/proc/self/pagemap", O_RDONLY);
		uint64_t e = 0;
		if (pm && xio::pread_full(pm->borrow(), xio::as_writable_bytes(&e, 8), off_t(uintptr_t(p) / 4096 * 8)))
			ok = (e >> 55) & 1;
	}
	munmap(p, 4096);
	return ok;
}

// clone3 with set_tid: a bad set_tid_size gives EINVAL when the field is known, E2BIG or
// ENOSYS when it is not.
Result<bool> probe_clone3_set_tid()
{
	struct clone_args args;
	memset(&args, 0, sizeof(args));
	pid_t tid = 1;
	args.set_tid = uintptr_t(&tid);
	args.set_tid_size = 4096; // more than any nesting level
	long r = syscall(SYS_clone3, &args, sizeof(args));
	if (r == 0)
		_exit(0); // cannot happen with this size, but never let a child run on
	if (r > 0) {
		waitpid(pid_t(r), nullptr, 0);
		return true;
	}
	return errno == EINVAL;
}

Result<bool> probe_process_vm_readv()
{
	char src[8] = "criusec", dst[8] = {};
	struct iovec l = {dst, sizeof(dst)}, r = {src, sizeof(src)};
	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == sizeof(src) && !memcmp(src, dst, sizeof(src));
}

Result<bool> probe_map_files()
{
	void *p = mmap(nullptr, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail_errno("mmap");
	std::string path = fmt::format("/proc/self/map_files/{:x}-{:x}", uintptr_t(p), uintptr_t(p) + 4096);
	bool ok = access(path.c_str(), F_OK) == 0;
	munmap(p, 4096);
	return ok;
}

Result<bool> probe_path(const char *path) { return access(path, F_OK) == 0; }

Result<bool> probe_memfd()
{
	int fd = int(syscall(SYS_memfd_create, "criu-check", MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

Result<bool> probe_pidfd()
{
	int fd = int(syscall(SYS_pidfd_open, getpid(), 0));
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

Result<bool> probe_kcmp()
{
	// KCMP_FILE of an fd with itself: 0 when kcmp exists
	return syscall(SYS_kcmp, getpid(), getpid(), 0 /* KCMP_FILE */, 0, 0) == 0;
}

} // namespace

const std::vector<Feature> &kernel_features()
{
	static const std::vector<Feature> features = {
		{"process_vm_readv", true, "reading a task's memory", probe_process_vm_readv},
		{"map_files", true, "/proc/PID/map_files, for the parasite's shared area", probe_map_files},
		{"clone3_set_tid", true, "restoring tasks with their PIDs", probe_clone3_set_tid},
		{"memfd", true, "memfd_create", probe_memfd},
		{"kcmp", false, "telling shared files apart", probe_kcmp},
		{"pidfd", false, "pidfd_open", probe_pidfd},
		{"timens", false, "time namespaces", [] { return probe_path("/proc/self/ns/time"); }},
		{"mem_dirty_track", false, "soft-dirty tracking, for iterative pre-dumps", probe_soft_dirty},
	};
	return features;
}

int cr_check(const std::vector<std::string> &only)
{
	if (geteuid() != 0) {
		pr_err("criu check needs root (running as uid {})", geteuid());
		return 1;
	}
	bool required_missing = false, optional_missing = false;
	for (const std::string &name : only) {
		bool known = false;
		for (const Feature &f : kernel_features())
			known |= name == f.name;
		if (!known) {
			pr_err("unknown feature {}", name);
			return 1;
		}
	}
	for (const Feature &f : kernel_features()) {
		if (!only.empty() && std::find(only.begin(), only.end(), f.name) == only.end())
			continue;
		auto r = f.probe();
		if (!r) {
			pr_err("{}: can't check: {}", f.name, r.error().describe());
			required_missing = true;
			continue;
		}
		if (*r) {
			if (!only.empty())
				pr_msg("{} is supported", f.name);
			continue;
		}
		if (f.required || !only.empty())
			pr_err("{} is not supported ({})", f.name, f.what);
		else
			pr_warn("{} is not supported ({})", f.name, f.what);
		(f.required ? required_missing : optional_missing) = true;
		if (!only.empty())
			required_missing = true;
	}
	if (!only.empty())
		return required_missing ? 1 : 0;
	if (required_missing)
		return 1;
	if (optional_missing)
		pr_msg("Looks good but some kernel features are missing\n"
		       "which, depending on your process tree, may cause\n"
		       "dump or restore failure.");
	else
		pr_msg("Looks good.");
	return 0;
}

} // namespace criu
