// Tasks sharing an fd table or fs with their parent (CLONE_FILES, CLONE_FS without threads):
// the parent forks them with the same flag once its fds and fs are in place; siblings sharing a
// table their parent does not: the first forks the others (CLONE_PARENT); see restore.h and
// Documentation/restore.md for who closes criu's fds in a shared table.
#define LOG_PREFIX "restore: "
#include <linux/sched.h>

#include <optional>

#include "common/log.h"
#include "restore.h"

namespace criu {

namespace {

// The index of the parent of tasks[index] (parents come first), or nullopt for the root.
std::optional<size_t> parent_of(const std::vector<TaskPlan> &tasks, size_t index)
{
	for (size_t i = 0; i < index; i++)
		if (tasks[i].images.pid == tasks[index].images.ppid)
			return i;
	return std::nullopt;
}

} // namespace

uint64_t shared_with_parent(const std::vector<TaskPlan> &tasks, size_t index)
{
	auto parent = parent_of(tasks, index);
	if (!parent || tasks[index].images.zombie || tasks[*parent].images.zombie)
		return 0;
	const TaskKobjIdsEntry &mine = tasks[index].images.ids_entry(), &theirs = tasks[*parent].images.ids_entry();
	uint64_t flags = 0;
	if (mine.files_id == theirs.files_id)
		flags |= CLONE_FILES;
	if (mine.fs_id == theirs.fs_id)
		flags |= CLONE_FS;
	return flags;
}

std::optional<size_t> files_sibling(const std::vector<TaskPlan> &tasks, size_t index)
{
	const TaskImages &t = tasks[index].images;
	if (t.zombie || (shared_with_parent(tasks, index) & CLONE_FILES))
		return std::nullopt;
	for (size_t i = 0; i < index; i++) {
		const TaskImages &o = tasks[i].images;
		if (!o.zombie && o.ppid == t.ppid && o.ids_entry().files_id == t.ids_entry().files_id)
			return i;
	}
	return std::nullopt;
}

uint64_t shared_at_fork(const std::vector<TaskPlan> &tasks, size_t index)
{
	auto sibling = files_sibling(tasks, index);
	if (!sibling)
		return shared_with_parent(tasks, index);
	bool fs = tasks[*sibling].images.ids_entry().fs_id == tasks[index].images.ids_entry().fs_id;
	return CLONE_FILES | (fs ? CLONE_FS : 0);
}

HiddenFds hidden_fds_closer(const std::vector<TaskPlan> &tasks, size_t index)
{
	if (tasks[index].images.zombie)
		return HiddenFds::Restorer;
	if (shared_at_fork(tasks, index) & CLONE_FILES)
		return HiddenFds::Nobody;
	uint32_t files_id = tasks[index].images.ids_entry().files_id;
	for (size_t i = index + 1; i < tasks.size(); i++)
		if (!tasks[i].images.zombie && tasks[i].images.ids_entry().files_id == files_id)
			return HiddenFds::Criu;
	return HiddenFds::Restorer;
}

std::vector<std::pair<uint64_t, uint64_t>> fds_to_close(const std::vector<int> &keep)
{
	std::vector<std::pair<uint64_t, uint64_t>> out;
	uint64_t at = 0;
	for (int fd : keep) {
		if (uint64_t(fd) > at)
			out.emplace_back(at, uint64_t(fd) - at);
		at = uint64_t(fd) + 1;
	}
	out.emplace_back(at, (1ull << 31) - at);
	return out;
}

// A task forked by its sibling (files_sibling) gets that sibling's session and fs at birth.
Result<> check_sibling_fork(const std::vector<TaskPlan> &tasks, size_t index, size_t sibling)
{
	const TaskPlan &t = tasks[index], &a = tasks[sibling];
	const TaskImages &ti = t.images;
	if (t.birth_session() != a.images.sid && !(ti.sid == ti.pid && !t.born_sid))
		return fail(EINVAL, "task {} shares the fd table of its sibling {}, which is in another session: "
			    "not supported", ti.pid, a.images.pid);
	if ((shared_with_parent(tasks, index) & CLONE_FS) && !(shared_at_fork(tasks, index) & CLONE_FS))
		return fail(EINVAL, "task {} shares the fd table of its sibling {} and the fs of its parent: "
			    "not supported", ti.pid, a.images.pid);
	pr_info("task {} shares the fd table{} of its sibling {}, which forks it", ti.pid,
		shared_at_fork(tasks, index) & CLONE_FS ? " and fs" : "", a.images.pid);
	return {};
}

// Ids shared with an earlier task must be the parent's, or the fd table (and fs) of a sibling:
// that is all clone flags can rebuild.
Result<> check_shared_ids(const std::vector<TaskPlan> &tasks)
{
	for (size_t i = 0; i < tasks.size(); i++) {
		const TaskImages &t = tasks[i].images;
		if (t.zombie)
			continue;
		auto sibling = files_sibling(tasks, i);
		if (sibling)
			TRY(check_sibling_fork(tasks, i, *sibling));
		uint64_t at_fork = shared_at_fork(tasks, i);
		for (size_t j = 0; j < i; j++) {
			const TaskImages &o = tasks[j].images;
			if (o.zombie)
				continue;
			if (o.ids_entry().files_id == t.ids_entry().files_id && !(at_fork & CLONE_FILES))
				return fail(EINVAL, "ids-{}.img: task {} shares the fd table of task {}, but not its "
					    "parent's or a sibling's: not supported", t.pid, t.pid, o.pid);
			if (o.ids_entry().fs_id == t.ids_entry().fs_id && !(at_fork & CLONE_FS))
				return fail(EINVAL, "ids-{}.img: task {} shares the fs of task {}, but not its "
					    "parent's or that of the sibling whose fd table it shares: not supported",
					    t.pid, t.pid, o.pid);
		}
		if (at_fork && !sibling)
			pr_info("task {} shares its parent's{}{}", t.pid, at_fork & CLONE_FILES ? " fd table" : "",
				at_fork & CLONE_FS ? " fs" : "");
	}
	return {};
}

} // namespace criu
