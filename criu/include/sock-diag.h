// NETLINK_SOCK_DIAG dumps (unix_diag, inet_diag): one request, then every answer in turn.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <functional>

#include "common/result.h"

namespace criu {

// Sends the dump request req (len bytes, its nlmsghdr first; its length, type
// SOCK_DIAG_BY_FAMILY and flags NLM_F_REQUEST | NLM_F_DUMP are set here) in criu's network
// namespace and calls each with every answer message until NLMSG_DONE.
[[nodiscard]] Result<> sock_diag_dump(void *req, size_t len, const std::function<void(const nlmsghdr &)> &each);

} // namespace criu
