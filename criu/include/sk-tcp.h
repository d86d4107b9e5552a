// Established TCP connections, through TCP_REPAIR (--tcp-established), as CRIU does.
//   tcp-stream-<ino>.img  TcpStreamEntry {inq_len, inq_seq = rcv_nxt, outq_len, outq_seq = write_seq,
//                         unsq_len = the part of the send queue never sent, opt_mask (TCPI_OPT_*),
//                         snd_wscale, rcv_wscale, mss_clamp, timestamp, nodelay, cork, the
//                         TCP_REPAIR_WINDOW values}, then inq_len bytes of the receive queue and outq_len bytes of the
//                         send queue (both read with MSG_PEEK from the selected repair queue).
// Dump puts the socket in repair mode and leaves it so: a socket in repair mode that is closed
// sends nothing (no FIN, no RST), so the peer never learns that the task died. Restore makes
// a socket in repair mode, sets both sequence numbers, binds and connects (no packet is sent),
// refills both queues (the unsent part of the send queue is sent only once repair is off),
// sets the options, timestamp and window, and leaves repair mode once every socket of the
// checkpoint exists. Internal to sk-inet.cc.
#pragma once

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "image-dir.h"
#include "tcp-stream.pb-c.h"

namespace criu {

// What tcp-stream-<ino>.img holds.
struct TcpStream {
	TcpStreamEntry e = TCP_STREAM_ENTRY__INIT;
	std::vector<uint8_t> inq, outq;
};

// TCP_REPAIR on (1), off (0) or off without a window probe (-1).
[[nodiscard]] Result<> tcp_repair(int sk, int mode);

// The connection state of sk, which is in repair mode.
[[nodiscard]] Result<TcpStream> dump_tcp_stream(int sk);
[[nodiscard]] Result<> write_tcp_stream(ImageDir &dir, uint32_t ino, const TcpStream &s);
[[nodiscard]] Result<TcpStream> read_tcp_stream(ImageDir &dir, uint32_t ino);

// Restore, on a socket in repair mode: before connect(), the sequence numbers.
[[nodiscard]] Result<> restore_tcp_seqs(int sk, const TcpStream &s);
// After connect(): options, queues (the part already sent), timestamp and window.
[[nodiscard]] Result<> restore_tcp_conn(int sk, const TcpStream &s);
// After repair is off: TCP_NODELAY, TCP_CORK, then sends what the task had written but TCP had
// not sent yet.
[[nodiscard]] Result<> restore_tcp_unsent(int sk, const TcpStream &s);

} // namespace criu
