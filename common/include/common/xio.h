// Thin syscall wrappers: EINTR handled inside, errno captured into the Result.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"
#include "common/unique-fd.h"

namespace criu::xio {

// Reads until buf is full or EOF; returns the number of bytes read.
[[nodiscard]] Result<size_t> read_full(BorrowedFd fd, std::span<std::byte> buf);
// Reads exactly buf.size() bytes at offset (until EOF); returns the number of bytes read.
[[nodiscard]] Result<size_t> pread_full(BorrowedFd fd, std::span<std::byte> buf, off_t off);
// Writes all of buf.
[[nodiscard]] Result<> write_full(BorrowedFd fd, std::span<const std::byte> buf);
// Writes all of buf at offset off.
[[nodiscard]] Result<> pwrite_full(BorrowedFd fd, std::span<const std::byte> buf, off_t off);
// Writes all bytes of iov (modified while progressing).
[[nodiscard]] Result<> writev_full(BorrowedFd fd, std::span<struct iovec> iov);

[[nodiscard]] Result<UniqueFd> open(const std::string &path, int flags, mode_t mode = 0);
[[nodiscard]] Result<UniqueFd> openat(BorrowedFd dir, const std::string &path, int flags, mode_t mode = 0);

// Whole small file into memory (certificates, keys, JSON).
[[nodiscard]] Result<std::string> read_file(const std::string &path);

inline std::span<std::byte> as_writable_bytes(void *p, size_t n) { return {static_cast<std::byte *>(p), n}; }
inline std::span<const std::byte> as_bytes(const void *p, size_t n) { return {static_cast<const std::byte *>(p), n}; }

} // namespace criu::xio
