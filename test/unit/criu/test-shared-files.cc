// Which open files the root task opens once for the whole tree (shared-files.h).
#include <catch2/catch.hpp>

#include "fdinfo.pb-c.h"
#include "handed-files.h"
#include "shared-files.h"

using namespace criu;

TEST_CASE("ids_in_several: a file id in two fd tables or more", "[shared-files]")
{
	CHECK(ids_in_several({}).empty());
	CHECK(ids_in_several({{1, 2, 3}}).empty());
	CHECK(ids_in_several({{1, 2}, {3}, {4}}).empty());
	CHECK(ids_in_several({{1, 2}, {2, 3}}) == std::set<uint32_t>{2});
	CHECK(ids_in_several({{1, 5}, {}, {5, 7}, {1, 5, 7}}) == std::set<uint32_t>{1, 5, 7});
}

TEST_CASE("opened_once: the kinds shared across tasks", "[shared-files]")
{
	for (auto t : {FD_TYPES__REG, FD_TYPES__MEMFD, FD_TYPES__PIPE, FD_TYPES__FIFO, FD_TYPES__EVENTFD,
		       FD_TYPES__SIGNALFD, FD_TYPES__TIMERFD, FD_TYPES__INOTIFY, FD_TYPES__FANOTIFY})
		CHECK(opened_once(uint32_t(t)));
	// epoll: its targets are the task's own fds; a terminal could become the root's ctty;
	// sockets: every fd is a dup of the one socket anyway.
	for (auto t : {FD_TYPES__EVENTPOLL, FD_TYPES__TTY, FD_TYPES__UNIXSK, FD_TYPES__INETSK})
		CHECK_FALSE(opened_once(uint32_t(t)));
}

// handed_files (handed-files.h): which epolls and pty ends one fd table makes and hands to the others.
namespace {

TaskFds task(uint32_t files_id, std::optional<size_t> parent, std::set<uint32_t> epolls, bool installs = true)
{
	TaskFds t;
	t.files_id = files_id;
	t.parent = parent;
	t.installs = installs;
	t.ids = std::move(epolls);
	return t;
}

std::map<uint32_t, uint32_t> handed(const std::vector<TaskFds> &tasks)
{
	auto r = handed_files(tasks, {});
	REQUIRE(r);
	return *r;
}

} // namespace

TEST_CASE("handed_files: a parent's epoll its children inherit is not handed", "[shared-files]")
{
	CHECK(handed({task(1, {}, {7}), task(2, 0, {7}), task(3, 0, {7}), task(4, 2, {7})}).empty());
	CHECK(handed({task(1, {}, {}), task(2, 0, {7})}).empty()); // one holder
	CHECK(handed({task(1, {}, {7}), task(1, 0, {7}, false)}).empty()); // CLONE_FILES child
}

TEST_CASE("handed_files: siblings and cousins get it from the first table holding it", "[shared-files]")
{
	// P closed it after forking A and B.
	CHECK(handed({task(1, {}, {}), task(2, 0, {7}), task(3, 0, {7})}) == std::map<uint32_t, uint32_t>{{7, 2}});
	// Cousins D (under X) and E (under Y); X's child C inherits from X, but X is a top.
	auto tree = std::vector<TaskFds>{task(1, {}, {}), task(2, 0, {9}), task(3, 0, {}), task(4, 1, {7, 9}),
					 task(5, 2, {7}), task(6, 3, {7})};
	CHECK(handed(tree) == std::map<uint32_t, uint32_t>{{7, 4}});
	// A task sharing its parent's table (which holds it) is no top of its own.
	CHECK(handed({task(1, {}, {}), task(2, 0, {7}), task(2, 1, {7}, false)}).empty());
}

TEST_CASE("handed_files: a CLONE_FILES task staging its CLONE_VM child's table can't receive", "[shared-files]")
{
	auto tree = std::vector<TaskFds>{task(1, {}, {}), task(2, 0, {7}), task(3, 0, {7}), task(3, 2, {7}, false)};
	CHECK(handed_files(tree, {10, 11, 12, 13}));
	tree[3].stages_vm_kid = true;
	auto r = handed_files(tree, {10, 11, 12, 13});
	REQUIRE_FALSE(r);
	CHECK_THAT(r.error().describe(), Catch::Matchers::Contains("task 13"));
	tree[3].files_id = 2; // the creator's table: nothing to receive
	tree[3].parent = 1;
	CHECK(handed_files(tree, {10, 11, 12, 13}) == std::map<uint32_t, uint32_t>{{7, 2}});
}
