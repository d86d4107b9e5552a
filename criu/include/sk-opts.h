// Socket options common to every socket kind (SkOptsEntry in sk-opts.proto, CRIU's fields),
// read from a socket with getsockopt and put back with setsockopt. Unix and inet sockets embed
// the entry in their own (UnixSkEntry.opts, InetSkEntry.opts).
//
// Written: so_sndbuf, so_rcvbuf (as SO_SNDBUF/SO_RCVBUF report them: twice what was asked),
// the send and receive timeouts, reuseaddr, reuseport, so_priority, so_rcvlowat, so_mark,
// so_passcred, so_passsec, so_dontroute, so_broadcast, so_keepalive, so_oobinline and
// so_linger (l_linger when SO_LINGER is on). Not handled: so_bound_dev, so_filter (a socket
// with SO_ATTACH_FILTER still dumps; the filter is lost), so_buf_lock.
#pragma once

#include "common/result.h"
#include "sk-opts.pb-c.h"

namespace criu {

// An SkOptsEntry that owns nothing (only scalars are set): copy it, point an entry at it.
struct SkOpts {
	SkOptsEntry entry = SK_OPTS_ENTRY__INIT;
};

[[nodiscard]] Result<SkOpts> dump_sk_opts(int sk);
// Buffer sizes go through SO_SNDBUFFORCE/SO_RCVBUFFORCE (criu is root), halved as the kernel
// doubles them.
[[nodiscard]] Result<> restore_sk_opts(int sk, const SkOptsEntry &e);

} // namespace criu
