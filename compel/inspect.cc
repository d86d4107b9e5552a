// What ptrace reports about a seized thread without running code in it: pending signals, TLS
// descriptors, the rseq registration and seccomp filters.
#define LOG_PREFIX "compel: "
#include <asm/ldt.h>
#include <sys/ptrace.h>

#include <cstring>

#include "common/log.h"
#include "compel/task.h"

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif

namespace criu::compel {
namespace {

// Our own copy of the kernel ABI structs (glibc's and the kernel's headers disagree on names).
struct PeekArgs {
	uint64_t off;
	uint32_t flags;
	int32_t nr;
};
constexpr uint32_t kPeekShared = 1; // PTRACE_PEEKSIGINFO_SHARED

struct KernelRseqConfig {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size, signature, flags, pad;
};

struct SeccompMetadata {
	uint64_t filter_off;
	uint64_t flags;
};

long xptrace(long req, pid_t tid, unsigned long addr, void *data)
{
	return ptrace(static_cast<enum __ptrace_request>(req), tid, addr, data);
}

} // namespace

Result<> SeizedProcess::has_thread(pid_t tid) const
{
	TRY(usable());
	if (!find(tid))
		return fail(ESRCH, "{} is not a seized thread of {}", tid, pid_);
	return {};
}

Result<std::vector<std::array<uint8_t, 128>>> SeizedProcess::pending_signals(pid_t tid, bool shared) const
{
	TRY(has_thread(tid));
	std::vector<std::array<uint8_t, 128>> out;
	constexpr int kBatch = 32;
	std::array<uint8_t, 128> buf[kBatch];
	for (;;) {
		PeekArgs a{.off = out.size(), .flags = shared ? kPeekShared : 0, .nr = kBatch};
		long n = xptrace(PTRACE_PEEKSIGINFO, tid, reinterpret_cast<unsigned long>(&a), buf);
		if (n < 0)
			return fail_errno("PTRACE_PEEKSIGINFO {} ({})", tid, shared ? "shared" : "private");
		if (n == 0)
			return out;
		out.insert(out.end(), buf, buf + n);
	}
}

Result<TlsDesc> SeizedProcess::thread_area(pid_t tid, unsigned idx) const
{
	TRY(has_thread(tid));
	struct user_desc d;
	std::memset(&d, 0, sizeof(d));
	if (xptrace(PTRACE_GET_THREAD_AREA, tid, idx, &d) < 0)
		return fail_errno("PTRACE_GET_THREAD_AREA {} slot {}", tid, idx);
	return TlsDesc{
		.entry_number = d.entry_number,
		.base_addr = d.base_addr,
		.limit = d.limit,
		.seg_32bit = d.seg_32bit != 0,
		.contents_h = (d.contents & 2) != 0,
		.contents_l = (d.contents & 1) != 0,
		.read_exec_only = d.read_exec_only != 0,
		.limit_in_pages = d.limit_in_pages != 0,
		.seg_not_present = d.seg_not_present != 0,
		.usable = d.useable != 0,
	};
}

Result<RseqConfig> SeizedProcess::rseq_config(pid_t tid) const
{
	TRY(has_thread(tid));
	KernelRseqConfig c{};
	long n = xptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, sizeof(c), &c);
	if (n < 0)
		return fail_errno("PTRACE_GET_RSEQ_CONFIGURATION {}", tid);
	return RseqConfig{.rseq_abi_pointer = c.rseq_abi_pointer,
			  .rseq_abi_size = c.rseq_abi_size,
			  .signature = c.signature,
			  .flags = c.flags};
}

Result<std::optional<SeccompFilter>> SeizedProcess::seccomp_filter(pid_t tid, unsigned idx) const
{
	TRY(has_thread(tid));
	constexpr size_t kInsnSize = 8; // struct sock_filter
	long n = xptrace(PTRACE_SECCOMP_GET_FILTER, tid, idx, nullptr);
	if (n < 0 && errno == ENOENT)
		return std::nullopt;
	if (n < 0)
		return fail_errno("PTRACE_SECCOMP_GET_FILTER {} filter {}", tid, idx);
	std::vector<uint8_t> prog(size_t(n) * kInsnSize);
	long m = xptrace(PTRACE_SECCOMP_GET_FILTER, tid, idx, prog.data());
	if (m < 0)
		return fail_errno("PTRACE_SECCOMP_GET_FILTER {} filter {}", tid, idx);
	prog.resize(size_t(m) * kInsnSize);
	SeccompMetadata md{.filter_off = idx, .flags = 0};
	if (xptrace(PTRACE_SECCOMP_GET_METADATA, tid, sizeof(md), &md) < 0)
		return fail_errno("PTRACE_SECCOMP_GET_METADATA {} filter {}", tid, idx);
	return SeccompFilter{.prog = std::move(prog), .flags = md.flags};
}

} // namespace criu::compel
