// NETLINK_SOCK_DIAG dumps (see sock-diag.h).
#include "sock-diag.h"

#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <vector>

#include "common/unique-fd.h"

namespace criu {

Result<> sock_diag_dump(void *req, size_t len, const std::function<void(const nlmsghdr &)> &each)
{
	auto *rh = static_cast<nlmsghdr *>(req);
	rh->nlmsg_len = uint32_t(len);
	rh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	rh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	UniqueFd nl(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
	if (!nl)
		return fail_errno("can't open a NETLINK_SOCK_DIAG socket");
	if (send(nl.get(), req, len, 0) != ssize_t(len))
		return fail_errno("can't send a sock_diag request");
	std::vector<char> buf(1 << 16);
	for (;;) {
		ssize_t n = recv(nl.get(), buf.data(), buf.size(), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail_errno("can't read sock_diag's answer");
		for (auto *h = reinterpret_cast<const nlmsghdr *>(buf.data()); NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return {};
			if (h->nlmsg_type == NLMSG_ERROR) {
				int err = -static_cast<const nlmsgerr *>(NLMSG_DATA(h))->error;
				return fail(err > 0 ? err : EIO, "sock_diag answered an error");
			}
			each(*h);
		}
	}
}

} // namespace criu
