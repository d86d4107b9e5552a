#include <sys/mman.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "common/xio.h"
#include "vma.h"

namespace criu {

namespace {

uint32_t classify(const Vma &v)
{
	using namespace vma_status;
	const std::string &p = v.path;
	bool shared = v.flags & MAP_SHARED;
	if (p == "[vsyscall]")
		return kVsyscall; // provided by the kernel, never dumped
	if (p == "[vdso]")
		return kRegular | kVdso | kAnonPrivate;
	if (p == "[vvar]" || p == "[vvar_vclock]")
		return kRegular | kVvar | kAnonPrivate;
	if (p.starts_with("/SYSV"))
		return kRegular | kSysvIpc | kAnonShared;
	if (p.starts_with("/dev/zero") && shared)
		return kRegular | kAnonShared; // MAP_SHARED | MAP_ANONYMOUS shows as "/dev/zero (deleted)"
	uint32_t s = kRegular;
	if (p == "[heap]")
		s |= kHeap;
	else if (p == "[stack]")
		s |= kStack;
	if (p.empty() || p[0] != '/')
		return s | (shared ? kAnonShared : kAnonPrivate);
	if (p.starts_with("/memfd:"))
		s |= kMemfd;
	return s | (shared ? kFileShared : kFilePrivate);
}

} // namespace

bool Vma::dumps_private_pages() const
{
	using namespace vma_status;
	if (!is(kRegular) || is(kVvar) || is(kVdso))
		return false;
	return is(kAnonPrivate) || is(kFilePrivate);
}

Result<Vma> parse_maps_line(const std::string &line)
{
	Vma v;
	char perms[5] = {};
	unsigned long long start, end, pgoff, ino;
	unsigned maj, min;
	int path_at = -1;
	if (sscanf(line.c_str(), "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, perms, &pgoff, &maj, &min, &ino,
		   &path_at) < 7)
		return fail(EINVAL, "can't parse maps line '{}'", line);
	v.start = start;
	v.end = end;
	v.pgoff = pgoff;
	v.dev_major = maj;
	v.dev_minor = min;
	v.ino = ino;
	if (perms[0] == 'r')
		v.prot |= PROT_READ;
	if (perms[1] == 'w')
		v.prot |= PROT_WRITE;
	if (perms[2] == 'x')
		v.prot |= PROT_EXEC;
	v.flags = perms[3] == 's' ? MAP_SHARED : MAP_PRIVATE;
	if (path_at > 0 && size_t(path_at) < line.size())
		v.path = line.substr(size_t(path_at));
	v.status = classify(v);
	if (v.is(vma_status::kAnonPrivate) || v.is(vma_status::kAnonShared))
		v.flags |= MAP_ANONYMOUS;
	if (v.is(vma_status::kStack))
		v.flags |= MAP_GROWSDOWN;
	return v;
}

Result<std::vector<Vma>> parse_maps(pid_t pid)
{
	std::string path = fmt::format("/proc/{}/maps", pid);
	std::string text = TRY(xio::read_file(path));
	std::vector<Vma> out;
	size_t pos = 0;
	while (pos < text.size()) {
		size_t nl = text.find('\n', pos);
		if (nl == std::string::npos)
			nl = text.size();
		out.push_back(TRY_CTX(parse_maps_line(text.substr(pos, nl - pos)), "{}", path));
		pos = nl + 1;
	}
	return out;
}

} // namespace criu
