// plan_pgrp_helpers: which helper tasks restore derives from pstree.img for process groups and
// sessions whose leader has died, and what it refuses.
#include <catch2/catch.hpp>

#include <vector>

#include "core.pb-c.h"
#include "options.h"
#include "pstree.h"
#include "restore.h"

using namespace criu;

namespace {

struct Task {
	pid_t pid, ppid, pgid, sid;
	bool subreaper = false, zombie = false;
};

// A task's images as restore reads them: pstree ids and a core whose tc says if it is a subreaper.
TaskPlan plan(const Task &t)
{
	TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
	tc.comm = const_cast<char *>("t");
	tc.has_child_subreaper = true;
	tc.child_subreaper = t.subreaper;
	CoreEntry core = CORE_ENTRY__INIT;
	core.tc = &tc;
	std::vector<uint8_t> buf(core_entry__get_packed_size(&core));
	core_entry__pack(&core, buf.data());
	TaskPlan p;
	p.images.pid = t.pid, p.images.ppid = t.ppid, p.images.pgid = t.pgid, p.images.sid = t.sid;
	p.images.zombie = t.zombie;
	ThreadImages th;
	th.tid = t.pid;
	th.core.reset(protobuf_c_message_unpack(&core_entry__descriptor, nullptr, buf.size(), buf.data()));
	p.images.threads.push_back(std::move(th));
	return p;
}

Result<std::vector<PgrpHelper>> helpers_of(const std::vector<Task> &tree, bool shell_job = false)
{
	std::vector<TaskPlan> tasks;
	for (const Task &t : tree)
		tasks.push_back(plan(t));
	Options opts;
	opts.shell_job = shell_job;
	return plan_pgrp_helpers(tasks, opts);
}

} // namespace

TEST_CASE("a group whose leader has died gets one helper, forked by its first member")
{
	auto h = helpers_of({{10, 0, 10, 10}, {12, 10, 11, 10}, {13, 12, 11, 10}, {14, 10, 14, 10}});
	REQUIRE(h);
	REQUIRE(h->size() == 1);
	CHECK((*h)[0].pid == 11);
	CHECK((*h)[0].parent == 12);
	CHECK(!(*h)[0].session);
}

TEST_CASE("groups led by a task of the tree need no helper")
{
	auto h = helpers_of({{10, 0, 10, 10}, {11, 10, 12, 10}, {12, 10, 12, 10}});
	REQUIRE(h);
	CHECK(h->empty());
}

TEST_CASE("the root's group outside the tree is criu's with --shell-job, refused without")
{
	CHECK(!helpers_of({{10, 0, 5, 5}, {11, 10, 5, 5}}));
	auto h = helpers_of({{10, 0, 5, 5}, {11, 10, 5, 5}}, true);
	REQUIRE(h);
	CHECK(h->empty());
}

TEST_CASE("a group of zombies only gets a helper forked by their parent")
{
	auto h = helpers_of({{10, 0, 10, 10}, {12, 10, 11, 10, false, true}});
	REQUIRE(h);
	REQUIRE(h->size() == 1);
	CHECK((*h)[0].pid == 11);
	CHECK((*h)[0].parent == 10);
}

TEST_CASE("a group with zombies gets its helper from the nearest common ancestor of their parents")
{
	// 12 (live) and zombie 14 of 12, zombie 13 of 10, all in group 11.
	auto h = helpers_of({{10, 0, 10, 10}, {12, 10, 11, 10}, {13, 10, 11, 10, false, true},
			     {14, 12, 11, 10, false, true}});
	REQUIRE(h);
	REQUIRE(h->size() == 1);
	CHECK((*h)[0].parent == 10);
	auto below = helpers_of({{10, 0, 10, 10}, {12, 10, 11, 10}, {14, 12, 11, 10, false, true}});
	REQUIRE(below);
	CHECK((*below)[0].parent == 12);
}

TEST_CASE("zombies of a dead-leader group whose common ancestor is outside its session are refused")
{
	// Session 11 lost its leader; zombie 13, reparented to the subreaper 10, is in group 15 of
	// session 11, whose leader died too.
	auto h = helpers_of({{10, 0, 10, 10, true}, {12, 10, 11, 11}, {13, 10, 15, 11, false, true}});
	REQUIRE(!h);
	CHECK(h.error().describe().find("zombie 13") != std::string::npos);
}

TEST_CASE("zombies in a session whose leader has died are forked by its helper")
{
	auto h = helpers_of({{10, 0, 10, 10, true}, {12, 10, 11, 11}, {13, 10, 11, 11, false, true}});
	REQUIRE(h);
	REQUIRE(h->size() == 1);
	CHECK(((*h)[0].pid == 11 && (*h)[0].parent == 10 && (*h)[0].session));
}

TEST_CASE("a session whose leader has died gets a session helper forked by the subreaper")
{
	auto h = helpers_of({{10, 0, 10, 10, true}, {12, 10, 11, 11}, {13, 12, 13, 11}});
	REQUIRE(h);
	REQUIRE(h->size() == 1); // the session's helper leads group 11 too
	CHECK((*h)[0].pid == 11);
	CHECK((*h)[0].parent == 10);
	CHECK((*h)[0].session);
}

TEST_CASE("a session helper comes before the group helpers inside its session")
{
	auto h = helpers_of({{10, 0, 10, 10, true}, {12, 10, 15, 11}});
	REQUIRE(h);
	REQUIRE(h->size() == 2);
	CHECK(((*h)[0].pid == 11 && (*h)[0].session));
	CHECK(((*h)[1].pid == 15 && (*h)[1].parent == 12 && !(*h)[1].session));
}

TEST_CASE("a session whose members' parent is not a subreaper is refused")
{
	auto h = helpers_of({{10, 0, 10, 10}, {12, 10, 11, 11}});
	REQUIRE(!h);
	CHECK(h.error().describe().find("child subreaper") != std::string::npos);
}

TEST_CASE("a session with members under two subreapers is refused")
{
	CHECK(!helpers_of({{10, 0, 10, 10, true}, {12, 10, 12, 10, true}, {13, 10, 11, 11}, {14, 12, 11, 11}}));
}

namespace {

Result<PstreePlan> plan_of(const std::vector<Task> &tree)
{
	std::vector<TaskPlan> tasks;
	for (const Task &t : tree)
		tasks.push_back(plan(t));
	Options opts;
	return plan_pstree(pstree_items(tasks), opts);
}

} // namespace

TEST_CASE("a session leader with children in the session it left was born in it")
{
	// 12 forked 13 in session 10, then called setsid().
	auto p = plan_of({{10, 0, 10, 10}, {12, 10, 12, 12}, {13, 12, 10, 10}});
	REQUIRE(p);
	CHECK(p->helpers.empty());
	CHECK(p->born_sid == std::map<pid_t, pid_t>{{12, 10}});
}

TEST_CASE("a dead-leader session with children of the subreaper and of a task that left it")
{
	// Session 11 lost its leader: 13 and 12 were reparented to the subreaper 10; 12 forked 14 in
	// session 11 before its setsid().
	auto p = plan_of({{10, 0, 10, 10, true}, {12, 10, 12, 12}, {13, 10, 11, 11}, {14, 12, 11, 11}});
	REQUIRE(p);
	REQUIRE(p->helpers.size() == 1);
	CHECK(((p->helpers[0].pid == 11 && p->helpers[0].parent == 10 && p->helpers[0].session)));
	CHECK(p->born_sid == std::map<pid_t, pid_t>{{12, 11}});
}

TEST_CASE("a task with children in two sessions not its own is refused")
{
	auto p = plan_of({{10, 0, 10, 10, true}, {12, 10, 12, 12}, {13, 12, 10, 10}, {14, 12, 11, 11},
			  {15, 10, 11, 11}});
	REQUIRE(!p);
	CHECK(p.error().describe().find("sessions") != std::string::npos);
}

TEST_CASE("a subreaper whose only child in a dead-leader session left it forks its helper")
{
	// 12, reparented to the subreaper 10, forked 14 in session 11 before its setsid().
	auto p = plan_of({{10, 0, 10, 10, true}, {12, 10, 12, 12}, {14, 12, 11, 11}});
	REQUIRE(p);
	REQUIRE(p->helpers.size() == 1);
	CHECK(((p->helpers[0].pid == 11 && p->helpers[0].parent == 10 && p->helpers[0].session)));
	CHECK(p->born_sid == std::map<pid_t, pid_t>{{12, 11}});
}
