// Which open files the root task opens once for the whole tree (shared-files.h).
#include <catch2/catch.hpp>

#include "fdinfo.pb-c.h"
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
