// CLONE_VM children at restore (clone-vm.cc): which tasks a restorer creates, which one gets an
// fd table of its own, and the refusal of every other form of shared memory or handlers.
#include <catch2/catch.hpp>

#include "clone-vm.h"

using namespace criu;

namespace {

template <typename T> PbMsg repack(const ProtobufCMessageDescriptor &d, const T &e)
{
	std::vector<uint8_t> buf(protobuf_c_message_get_packed_size(&e.base));
	protobuf_c_message_pack(&e.base, buf.data());
	return PbMsg(protobuf_c_message_unpack(&d, nullptr, buf.size(), buf.data()));
}

struct Ids {
	uint32_t vm, sighand, files, fs;
};

PbMsg core_msg(uint32_t personality)
{
	TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
	tc.personality = personality;
	tc.comm = const_cast<char *>("t");
	CoreEntry c = CORE_ENTRY__INIT;
	c.mtype = CORE_ENTRY__MARCH__X86_64;
	c.tc = &tc;
	return repack(core_entry__descriptor, c);
}

// A task; a vm child when it has its parent's vm id (as read_task decides).
void add(std::vector<TaskPlan> &tasks, pid_t pid, pid_t ppid, Ids id, pid_t pgid = 10, uint32_t personality = 0)
{
	TaskImages t;
	t.pid = pid, t.ppid = ppid, t.pgid = pgid, t.sid = 10;
	TaskKobjIdsEntry e = TASK_KOBJ_IDS_ENTRY__INIT;
	e.vm_id = id.vm, e.sighand_id = id.sighand, e.files_id = id.files, e.fs_id = id.fs;
	t.ids = repack(task_kobj_ids_entry__descriptor, e);
	t.threads.push_back(ThreadImages{pid, core_msg(personality)});
	for (const TaskPlan &p : tasks)
		if (p.images.pid == ppid)
			t.vm_child = p.images.ids_entry().vm_id == id.vm;
	tasks.push_back(TaskPlan{std::move(t), FdPlan{}});
}

std::string refusal(const std::vector<TaskPlan> &tasks)
{
	auto r = check_vm_children(tasks);
	return r ? std::string("accepted") : r.error().describe();
}

} // namespace

TEST_CASE("CLONE_VM children sharing or not their parent's fd table and fs", "[clone-vm]")
{
	std::vector<TaskPlan> tasks;
	add(tasks, 10, 0, {1, 1, 1, 1});
	add(tasks, 11, 10, {1, 1, 1, 1}); // CLONE_VM | CLONE_SIGHAND | CLONE_FILES | CLONE_FS
	add(tasks, 12, 10, {3, 3, 3, 3}); // a child of its own
	add(tasks, 13, 10, {1, 1, 1, 1});
	CHECK(check_vm_children(tasks));
	CHECK(tasks[1].images.vm_child);
	CHECK(!tasks[2].images.vm_child);
	CHECK(vm_children(tasks, 0) == std::vector<const TaskPlan *>{&tasks[1], &tasks[3]});
	CHECK(vm_children(tasks, 2).empty());
	CHECK(vm_child_with_own_fds(tasks, 0) == nullptr);

	std::vector<TaskPlan> own;
	add(own, 10, 0, {1, 1, 1, 1});
	add(own, 11, 10, {1, 1, 2, 1}); // an fd table of its own
	add(own, 12, 10, {3, 3, 3, 3});
	CHECK(check_vm_children(own));
	CHECK(vm_child_with_own_fds(own, 0) == &own[1]);

	std::vector<TaskPlan> fs;
	add(fs, 10, 0, {1, 1, 1, 1});
	add(fs, 11, 10, {1, 1, 1, 4}); // an fs of its own
	CHECK(check_vm_children(fs));
	CHECK(vm_children(fs, 0) == std::vector<const TaskPlan *>{&fs[1]});
	CHECK(vm_child_with_own_fds(fs, 0) == nullptr);
}

TEST_CASE("other forms of shared memory or handlers are refused at restore", "[clone-vm]")
{
	std::vector<TaskPlan> t;
	add(t, 10, 0, {1, 1, 1, 1});
	add(t, 11, 10, {1, 2, 1, 1});
	CHECK_THAT(refusal(t), Catch::Contains("not its signal handlers"));


	t.clear();
	add(t, 10, 0, {1, 1, 1, 1});
	add(t, 11, 10, {1, 1, 1, 1}, 11);
	CHECK_THAT(refusal(t), Catch::Contains("not its session and process group"));

	t.clear();
	add(t, 10, 0, {1, 1, 1, 1});
	add(t, 11, 10, {1, 1, 1, 1}, 10, 0x400000);
	CHECK_THAT(refusal(t), Catch::Contains("not its personality"));

	t.clear();
	add(t, 10, 0, {1, 1, 1, 1});
	add(t, 11, 10, {1, 1, 1, 1});
	add(t, 12, 11, {3, 3, 3, 3});
	CHECK_THAT(refusal(t), Catch::Contains("has children"));

	t.clear();
	add(t, 10, 0, {1, 1, 1, 1});
	add(t, 11, 10, {1, 1, 2, 1});
	add(t, 12, 10, {1, 1, 3, 1});
	CHECK_THAT(refusal(t), Catch::Contains("each with its own fd table"));

	t.clear();
	add(t, 10, 0, {1, 1, 1, 1});
	add(t, 11, 10, {1, 1, 2, 1});
	add(t, 12, 10, {3, 3, 1, 3}); // CLONE_FILES, not CLONE_VM
	CHECK_THAT(refusal(t), Catch::Contains("whose table task 12 shares"));

	t.clear();
	add(t, 10, 0, {1, 1, 1, 1});
	add(t, 11, 10, {2, 2, 2, 2});
	add(t, 12, 11, {1, 1, 3, 3}); // its grandparent's memory
	CHECK_THAT(refusal(t), Catch::Contains("task 12 shares the memory or signal handlers of task 10"));
}
