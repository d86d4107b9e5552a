// Loading the parasite blob into a seized task and calling its commands.
#define LOG_PREFIX "parasite: "

#include "compel/parasite.h"

#include <unistd.h>

#include <utility>

#include "common/log.h"
#include "parasite-blob.h"

namespace criu::compel {

namespace {

constexpr size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

// The shared area: the blob with its bss, the argument area, then the stack (growing down from
// the end of the area).
constexpr size_t kArgsOffset = round_up(parasite_blob_mem_size, 64);
constexpr size_t kStackOffset = round_up(kArgsOffset + PARASITE_ARGS_SIZE, 16);

size_t area_size()
{
	return round_up(kStackOffset + PARASITE_STACK_SIZE, size_t(sysconf(_SC_PAGESIZE)));
}

} // namespace

Result<Parasite> Parasite::load(SeizedProcess &proc)
{
	RemoteArea area = TRY_CTX(proc.map_shared(area_size()), "load parasite into {}", proc.pid());
	// The area is fresh anonymous memory: the bss after the image is already zero.
	std::memcpy(area.local, parasite_blob, parasite_blob_size);
	pr_debug("loaded into {} at {:#x} ({} bytes, entry +{:#x})", proc.pid(), area.remote, area.size,
		 parasite_parasite_entry_offset);
	return Parasite(proc, area);
}

Parasite::Parasite(Parasite &&o) noexcept : proc_(std::exchange(o.proc_, nullptr)), area_(o.area_) {}

Parasite &Parasite::operator=(Parasite &&o) noexcept
{
	if (this != &o) {
		auto r = unload();
		if (!r)
			pr_err("{}", r.error().describe());
		proc_ = std::exchange(o.proc_, nullptr);
		area_ = o.area_;
	}
	return *this;
}

Parasite::~Parasite()
{
	auto r = unload();
	if (!r)
		pr_err("{}", r.error().describe());
}

void *Parasite::args_local() const { return static_cast<char *>(area_.local) + kArgsOffset; }

RemoteArea Parasite::args_area() const
{
	return RemoteArea{.remote = area_.remote + kArgsOffset, .local = args_local(), .size = PARASITE_ARGS_SIZE};
}

Result<> Parasite::run(parasite_cmd cmd)
{
	if (!proc_)
		return fail(EINVAL, "parasite command {}: not loaded", int(cmd));
	X86Regs regs = TRY_CTX(proc_->run_at(area_.remote + parasite_parasite_entry_offset, area_.remote + area_.size,
					     {uint64_t(cmd), area_.remote + kArgsOffset}),
			       "parasite command {} in {}", int(cmd), proc_->pid());
	long ret = long(regs.rax);
	if (ret < 0)
		return fail(int(-ret), "parasite command {} in {} failed", int(cmd), proc_->pid());
	return {};
}

Result<> Parasite::unload()
{
	SeizedProcess *proc = std::exchange(proc_, nullptr);
	if (!proc)
		return {};
	TRY_CTX(proc->unmap_shared(area_), "unload parasite from {}", proc->pid());
	return {};
}

} // namespace criu::compel
