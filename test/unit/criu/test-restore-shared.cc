// Tasks sharing an fd table or fs with their parent at restore (restore-shared.cc): the clone
// flags each is forked with, who closes criu's fds in a shared table, and the refusal of a
// table shared other than through the parent.
#include <catch2/catch.hpp>

#include <linux/sched.h>

#include "restore.h"

using namespace criu;

namespace {

PbMsg ids_msg(uint32_t files_id, uint32_t fs_id)
{
	TaskKobjIdsEntry e = TASK_KOBJ_IDS_ENTRY__INIT;
	e.files_id = files_id;
	e.fs_id = fs_id;
	std::vector<uint8_t> buf(task_kobj_ids_entry__get_packed_size(&e));
	task_kobj_ids_entry__pack(&e, buf.data());
	return PbMsg(protobuf_c_message_unpack(&task_kobj_ids_entry__descriptor, nullptr, buf.size(), buf.data()));
}

void add(std::vector<TaskPlan> &tasks, pid_t pid, pid_t ppid, uint32_t files_id, uint32_t fs_id, bool zombie = false)
{
	TaskImages t;
	t.pid = pid, t.ppid = ppid, t.zombie = zombie;
	if (!zombie)
		t.ids = ids_msg(files_id, fs_id);
	tasks.push_back(TaskPlan{std::move(t), FdPlan{}});
}

} // namespace

TEST_CASE("a chain of children sharing the root's fd table", "[restore-shared]")
{
	std::vector<TaskPlan> tasks;
	add(tasks, 10, 0, 1, 1);     // the root
	add(tasks, 11, 10, 1, 1);    // CLONE_FILES | CLONE_FS
	add(tasks, 12, 11, 1, 3);    // CLONE_FILES through 11
	add(tasks, 13, 10, 4, 4);    // its own
	add(tasks, 14, 10, 0, 0, true); // a zombie
	CHECK(shared_with_parent(tasks, 0) == 0);
	CHECK(shared_with_parent(tasks, 1) == (CLONE_FILES | CLONE_FS));
	CHECK(shared_with_parent(tasks, 2) == CLONE_FILES);
	CHECK(shared_with_parent(tasks, 3) == 0);
	CHECK(shared_with_parent(tasks, 4) == 0);
	CHECK(hidden_fds_closer(tasks, 0) == HiddenFds::Criu);
	CHECK(hidden_fds_closer(tasks, 1) == HiddenFds::Nobody);
	CHECK(hidden_fds_closer(tasks, 2) == HiddenFds::Nobody);
	CHECK(hidden_fds_closer(tasks, 3) == HiddenFds::Restorer);
	CHECK(hidden_fds_closer(tasks, 4) == HiddenFds::Restorer);
	CHECK(check_shared_ids(tasks));
}

TEST_CASE("siblings sharing an fd table their parent does not: the first forks the others", "[restore-shared]")
{
	std::vector<TaskPlan> tasks;
	add(tasks, 10, 0, 1, 1);
	add(tasks, 11, 10, 2, 2);
	add(tasks, 12, 10, 2, 3); // 11's fd table, its own fs
	add(tasks, 13, 10, 2, 2); // 11's fd table and fs
	add(tasks, 14, 13, 2, 5); // 13's fd table: its parent's
	CHECK(!files_sibling(tasks, 1));
	CHECK(files_sibling(tasks, 2) == 1u);
	CHECK(files_sibling(tasks, 3) == 1u);
	CHECK(!files_sibling(tasks, 4));
	CHECK(shared_at_fork(tasks, 2) == CLONE_FILES);
	CHECK(shared_at_fork(tasks, 3) == (CLONE_FILES | CLONE_FS));
	CHECK(shared_at_fork(tasks, 4) == CLONE_FILES);
	CHECK(hidden_fds_closer(tasks, 1) == HiddenFds::Criu);
	CHECK(hidden_fds_closer(tasks, 2) == HiddenFds::Nobody);
	CHECK(hidden_fds_closer(tasks, 4) == HiddenFds::Nobody);
	CHECK(check_shared_ids(tasks));
}

TEST_CASE("an fs shared between siblings without their fd table is refused", "[restore-shared]")
{
	std::vector<TaskPlan> fs, parent_fs, cousins;
	add(fs, 10, 0, 1, 1);
	add(fs, 11, 10, 2, 2);
	add(fs, 12, 10, 3, 2);
	CHECK(!check_shared_ids(fs));
	add(parent_fs, 10, 0, 1, 1);
	add(parent_fs, 11, 10, 2, 2);
	add(parent_fs, 12, 10, 2, 1); // 11's fd table, the parent's fs
	CHECK(!check_shared_ids(parent_fs));
	add(cousins, 10, 0, 1, 1);
	add(cousins, 11, 10, 2, 2);
	add(cousins, 12, 10, 3, 3);
	add(cousins, 13, 12, 2, 4);
	auto r = check_shared_ids(cousins);
	REQUIRE(!r);
	CHECK_THAT(r.error().describe(), Catch::Contains("task 13 shares the fd table of task 11"));
}

TEST_CASE("criu's fds are every number but the task's", "[restore-shared]")
{
	using Ranges = std::vector<std::pair<uint64_t, uint64_t>>;
	CHECK(fds_to_close({0, 1, 2, 5}) == Ranges{{3, 2}, {6, (1ull << 31) - 6}});
	CHECK(fds_to_close({1}) == Ranges{{0, 1}, {2, (1ull << 31) - 2}});
	CHECK(fds_to_close({}) == Ranges{{0, 1ull << 31}});
}
