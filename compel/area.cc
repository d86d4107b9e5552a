// Memory shared between us and the seized task: mapped there by a remote mmap(MAP_SHARED |
// MAP_ANONYMOUS), here through /proc/PID/map_files/<range> (which names the same shmem object).
#define LOG_PREFIX "compel: "
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "common/log.h"
#include "common/xio.h"
#include "compel/task.h"

namespace criu::compel {
namespace {

bool is_error(long v) { return v < 0 && v >= -4095; }

Result<void *> map_local(pid_t pid, uint64_t remote, size_t size)
{
	std::string path = fmt::format("/proc/{}/map_files/{:x}-{:x}", pid, remote, remote + size);
	UniqueFd fd = TRY(xio::open(path, O_RDWR));
	void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
	if (p == MAP_FAILED)
		return fail_errno("mmap {}", path);
	return p;
}

} // namespace

Result<RemoteArea> SeizedProcess::map_shared(size_t size)
{
	size_t page = size_t(sysconf(_SC_PAGESIZE));
	if (size == 0 || size > (size_t(1) << 46))
		return fail(EINVAL, "shared area of {} bytes for {}", size, pid_);
	size = (size + page - 1) & ~(page - 1);
	long addr = TRY(remote_syscall(__NR_mmap, {0, size, PROT_READ | PROT_WRITE | PROT_EXEC,
						   MAP_SHARED | MAP_ANONYMOUS, uint64_t(-1), 0}));
	if (is_error(addr))
		return fail(int(-addr), "remote mmap of {} bytes in {}", size, pid_);
	auto local = map_local(pid_, uint64_t(addr), size);
	if (!local) {
		auto undo = remote_syscall(__NR_munmap, {uint64_t(addr), size});
		if (!undo || *undo != 0)
			pr_err("{}: can't undo the remote mapping at {:#x}", pid_, addr);
		return std::unexpected(std::move(local.error()));
	}
	RemoteArea a{uint64_t(addr), *local, size};
	areas_.push_back(a);
	pr_debug("{}: shared area {:#x}+{:#x} at {} here", pid_, a.remote, a.size, a.local);
	return a;
}

Result<> SeizedProcess::unmap_shared(const RemoteArea &area)
{
	auto it = std::find_if(areas_.begin(), areas_.end(),
			       [&](const RemoteArea &a) { return a.remote == area.remote; });
	if (it == areas_.end())
		return fail(EINVAL, "{:#x} is not a shared area of {}", area.remote, pid_);
	RemoteArea a = *it;
	areas_.erase(it);
	munmap(a.local, a.size);
	long r = TRY_CTX(remote_syscall(__NR_munmap, {a.remote, a.size}), "unmap area {:#x}", a.remote);
	if (r != 0)
		return fail(int(-r), "remote munmap of {:#x}+{:#x} in {}", a.remote, a.size, pid_);
	return {};
}

} // namespace criu::compel
