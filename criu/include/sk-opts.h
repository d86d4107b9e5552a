// Socket options common to every socket kind (SkOptsEntry in sk-opts.proto, as CRIU records
// them): buffer sizes and their lock, send/receive timeouts, SO_REUSEADDR, SO_REUSEPORT,
// SO_KEEPALIVE (+ TCP_KEEPCNT/IDLE/INTVL for TCP), SO_PRIORITY, SO_RCVLOWAT, SO_MARK,
// SO_BROADCAST, SO_PASSCRED, SO_PASSSEC, SO_DONTROUTE, SO_NO_CHECK, SO_OOBINLINE, SO_LINGER
// (so_linger: the linger time when on, absent when off) and SO_BINDTODEVICE.
// Buffer sizes are what getsockopt says (twice what was asked); restore asks for half of it
// with SO_SNDBUFFORCE/SO_RCVBUFFORCE, then puts the lock back. Attached socket filters are refused.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "sk-opts.pb-c.h"

namespace criu {

// An SkOptsEntry and the storage its strings point to.
struct SkOptsHolder {
	SkOptsEntry e = SK_OPTS_ENTRY__INIT;
	std::string bound_dev;

	SkOptsHolder() = default;
	SkOptsHolder(const SkOptsHolder &) = delete;
	SkOptsHolder &operator=(const SkOptsHolder &) = delete;
};

// Reads the options of socket sk (criu's own copy of the target's socket).
[[nodiscard]] Result<std::unique_ptr<SkOptsHolder>> dump_sk_opts(int sk);
// Sets them on sk.
[[nodiscard]] Result<> restore_sk_opts(int sk, const SkOptsEntry &soe);

} // namespace criu
