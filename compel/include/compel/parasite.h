// The parasite: a freestanding blob loaded into a seized task that answers commands from inside
// it (what only the task itself can tell: signal dispositions, umask, itimers, ...).
//
//   auto p = TRY(compel::SeizedProcess::seize(pid, 5s));
//   auto parasite = TRY(compel::Parasite::load(p));
//   auto ids = TRY(parasite.call<parasite_getpid_args>(PARASITE_CMD_GETPID));
//   TRY(parasite.unload());                                   // or let the destructor do it
//
// The blob, its bss, the argument area and its stack live in one shared area (map_shared): the
// host writes arguments and reads results through its local mapping of the same pages.
#pragma once

#include <cstring>
#include <type_traits>

#include "common/result.h"
#include "compel/parasite-abi.h"
#include "compel/task.h"

namespace criu::compel {

class Parasite {
public:
	// Maps the area in the task and copies the blob in. The SeizedProcess must outlive the
	// Parasite.
	[[nodiscard]] static Result<Parasite> load(SeizedProcess &proc);

	Parasite(Parasite &&o) noexcept;
	Parasite &operator=(Parasite &&o) noexcept;
	Parasite(const Parasite &) = delete;
	Parasite &operator=(const Parasite &) = delete;
	~Parasite(); // unload(), errors logged

	// Runs cmd in the task with a copy of args in the argument area; returns the area's contents
	// afterwards. A negative answer from the blob becomes an error with that errno.
	template <typename T> [[nodiscard]] Result<T> call(parasite_cmd cmd, const T &args = {})
	{
		static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= PARASITE_ARGS_SIZE);
		std::memcpy(args_local(), &args, sizeof(T));
		TRY(run(cmd));
		T out;
		std::memcpy(&out, args_local(), sizeof(T));
		return out;
	}

	// Unmaps the area from the task. After unload (even a failed one) the object is empty.
	[[nodiscard]] Result<> unload();

	bool loaded() const { return proc_ != nullptr; }
	const RemoteArea &area() const { return area_; }
	// The argument area (PARASITE_ARGS_SIZE bytes) as a scratch area for remote system calls
	// between commands: its address in the task and here.
	RemoteArea args_area() const;

private:
	Parasite(SeizedProcess &proc, const RemoteArea &area) : proc_(&proc), area_(area) {}

	void *args_local() const;
	Result<> run(parasite_cmd cmd);

	SeizedProcess *proc_ = nullptr; // null when empty
	RemoteArea area_;
};

} // namespace criu::compel
