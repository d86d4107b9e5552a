#include <signal.h>
#include <sys/mman.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <optional>

#include <sstream>

#include "common/xio.h"
#include "proc-parse.h"
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

namespace {

// Lines of a text, without their newlines.
std::vector<std::string> split_lines(const std::string &text)
{
	std::vector<std::string> lines;
	std::istringstream in(text);
	for (std::string l; std::getline(in, l);)
		lines.push_back(l);
	return lines;
}

// The value after "Name:" in a status-like text, or nullopt.
std::optional<std::string> field(const std::string &text, const std::string &name)
{
	std::string key = "\n" + name + ":";
	size_t at = ("\n" + text).find(key);
	if (at == std::string::npos)
		return std::nullopt;
	size_t from = at + key.size() - 1;
	size_t eol = text.find('\n', from);
	return text.substr(from, eol == std::string::npos ? std::string::npos : eol - from);
}

uint32_t vmflag_map_flags(const std::string &f)
{
	if (f == "gd")
		return MAP_GROWSDOWN;
	if (f == "lo")
		return MAP_LOCKED;
	if (f == "nr")
		return MAP_NORESERVE;
	if (f == "ht")
		return MAP_HUGETLB;
	return 0;
}

uint64_t vmflag_madv(const std::string &f)
{
	static const std::pair<const char *, int> table[] = {
		{"sr", MADV_SEQUENTIAL}, {"rr", MADV_RANDOM},   {"dc", MADV_DONTFORK},    {"dd", MADV_DONTDUMP},
		{"mg", MADV_MERGEABLE},  {"hg", MADV_HUGEPAGE}, {"nh", MADV_NOHUGEPAGE},
	};
	for (const auto &[name, advice] : table)
		if (f == name)
			return 1ull << advice;
	return 0;
}

} // namespace

void apply_vmflags(const std::string &flags, Vma &v)
{
	std::istringstream in(flags);
	for (std::string f; in >> f;) {
		v.flags |= vmflag_map_flags(f);
		v.madv |= vmflag_madv(f);
	}
}

Result<> parse_smaps_vmflags(pid_t pid, std::vector<Vma> &vmas)
{
	std::string path = fmt::format("/proc/{}/smaps", pid);
	std::string text = TRY(xio::read_file(path));
	Vma *cur = nullptr;
	for (const std::string &l : split_lines(text)) {
		unsigned long long start, end;
		if (l.starts_with("VmFlags:")) {
			if (cur)
				apply_vmflags(l.substr(8), *cur);
		} else if (sscanf(l.c_str(), "%llx-%llx ", &start, &end) == 2 && l.find('-') < l.find(' ')) {
			cur = nullptr;
			for (Vma &v : vmas)
				if (v.start == start)
					cur = &v;
		}
	}
	return {};
}

Result<ProcStat> parse_stat_text(const std::string &text)
{
	size_t paren = text.rfind(')');
	if (paren == std::string::npos || paren + 2 >= text.size())
		return fail(EINVAL, "malformed stat '{}'", text.substr(0, 64));
	std::istringstream in(text.substr(paren + 2));
	std::vector<std::string> f(2); // fields 1 and 2 are before the paren
	for (std::string w; in >> w;)
		f.push_back(w);
	if (f.size() < 52)
		return fail(EINVAL, "stat has {} fields, want 52", f.size());
	auto u = [&f](size_t i) { return uint64_t(strtoull(f[i - 1].c_str(), nullptr, 10)); };
	auto i = [&f](size_t n) { return strtoll(f[n - 1].c_str(), nullptr, 10); };
	ProcStat st;
	st.state = f[2][0];
	st.ppid = pid_t(i(4)), st.pgid = pid_t(i(5)), st.sid = pid_t(i(6));
	st.flags = uint32_t(u(9));
	st.nice = int(i(19));
	st.start_code = u(26), st.end_code = u(27), st.start_stack = u(28);
	st.rt_priority = uint32_t(u(40)), st.policy = uint32_t(u(41));
	st.start_data = u(45), st.end_data = u(46), st.start_brk = u(47);
	st.arg_start = u(48), st.arg_end = u(49), st.env_start = u(50), st.env_end = u(51);
	st.exit_code = int(i(52));
	return st;
}

Result<ProcStat> parse_stat(pid_t pid, pid_t tid)
{
	std::string path = tid ? fmt::format("/proc/{}/task/{}/stat", pid, tid) : fmt::format("/proc/{}/stat", pid);
	std::string text = TRY(xio::read_file(path));
	return TRY_CTX(parse_stat_text(text), "{}", path);
}

Result<ProcStatus> parse_status_text(const std::string &text)
{
	ProcStatus st;
	auto need = [&text](const char *name) -> Result<std::string> {
		auto v = field(text, name);
		if (!v)
			return fail(EINVAL, "no {} in status", name);
		return *v;
	};
	auto four = [](const std::string &v, std::array<uint32_t, 4> &out) {
		std::istringstream in(v);
		for (uint32_t &x : out)
			in >> x;
	};
	four(TRY(need("Uid")), st.uids);
	four(TRY(need("Gid")), st.gids);
	std::istringstream groups(TRY(need("Groups")));
	for (uint32_t g; groups >> g;)
		st.groups.push_back(g);
	auto hex = [&need](const char *name) -> Result<uint64_t> {
		return strtoull(TRY(need(name)).c_str(), nullptr, 16);
	};
	st.cap_inh = TRY(hex("CapInh")), st.cap_prm = TRY(hex("CapPrm")), st.cap_eff = TRY(hex("CapEff"));
	st.cap_bnd = TRY(hex("CapBnd"));
	st.cap_amb = field(text, "CapAmb") ? TRY(hex("CapAmb")) : 0;
	if (auto v = field(text, "Seccomp"))
		st.seccomp = int(strtol(v->c_str(), nullptr, 10));
	if (auto v = field(text, "NoNewPrivs"))
		st.no_new_privs = strtol(v->c_str(), nullptr, 10) != 0;
	return st;
}

Result<ProcStatus> parse_status(pid_t pid, pid_t tid)
{
	std::string path = fmt::format("/proc/{}/task/{}/status", pid, tid);
	std::string text = TRY(xio::read_file(path));
	return TRY_CTX(parse_status_text(text), "{}", path);
}

Result<std::array<Rlimit, kRlimCount>> parse_limits_text(const std::string &text)
{
	// "%-25s %-20s %-20s %-10s": the name has spaces, so columns are by position.
	constexpr size_t kSoftCol = 26, kHardCol = 47;
	std::vector<std::string> lines = split_lines(text);
	if (lines.size() < kRlimCount + 1)
		return fail(EINVAL, "{} lines in limits, want {}", lines.size(), kRlimCount + 1);
	std::array<Rlimit, kRlimCount> out{};
	auto value = [](const std::string &l, size_t col) {
		std::string w = l.size() > col ? l.substr(col, l.find(' ', col) - col) : "";
		return w == "unlimited" ? ~uint64_t(0) : uint64_t(strtoull(w.c_str(), nullptr, 10));
	};
	for (int r = 0; r < kRlimCount; r++) {
		const std::string &l = lines[size_t(r) + 1];
		out[size_t(r)] = Rlimit{value(l, kSoftCol), value(l, kHardCol)};
	}
	return out;
}

Result<std::array<Rlimit, kRlimCount>> parse_limits(pid_t pid)
{
	std::string path = fmt::format("/proc/{}/limits", pid);
	std::string text = TRY(xio::read_file(path));
	return TRY_CTX(parse_limits_text(text), "{}", path);
}

Result<std::vector<ProcPosixTimer>> parse_posix_timers_text(const std::string &text)
{
	std::vector<ProcPosixTimer> out;
	for (const std::string &l : split_lines(text)) {
		int id, v;
		unsigned long long ptr;
		char how[16] = {}, who[8] = {};
		if (sscanf(l.c_str(), "ID: %d", &id) == 1) {
			out.push_back(ProcPosixTimer{.id = id});
		} else if (out.empty()) {
			return fail(EINVAL, "timers: '{}' before any ID", l);
		} else if (sscanf(l.c_str(), "signal: %d/%llx", &v, &ptr) == 2) {
			out.back().signo = v;
			out.back().sival_ptr = ptr;
		} else if (sscanf(l.c_str(), "notify: %15[a-z]/%7[a-z].%d", how, who, &v) == 3) {
			std::string h = how;
			int n = h == "signal" ? SIGEV_SIGNAL : h == "thread" ? SIGEV_THREAD : SIGEV_NONE;
			if (std::string(who) == "tid")
				n |= SIGEV_THREAD_ID;
			out.back().notify = n;
			out.back().notify_tid = v;
		} else if (sscanf(l.c_str(), "ClockID: %d", &v) == 1) {
			out.back().clock_id = v;
		}
	}
	return out;
}

Result<std::vector<ProcPosixTimer>> parse_posix_timers(pid_t pid)
{
	std::string path = fmt::format("/proc/{}/timers", pid);
	std::string text = TRY(xio::read_file(path));
	return TRY_CTX(parse_posix_timers_text(text), "{}", path);
}

Result<std::string> read_proc_line(const std::string &path)
{
	std::string text = TRY(xio::read_file(path));
	while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
		text.pop_back();
	return text;
}

} // namespace criu
