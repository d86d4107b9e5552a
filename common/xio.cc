#include "common/xio.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace criu::xio {

Result<size_t> read_full(BorrowedFd fd, std::span<std::byte> buf)
{
	size_t done = 0;
	while (done < buf.size()) {
		ssize_t n = ::read(fd.get(), buf.data() + done, buf.size() - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail_errno("read");
		}
		if (n == 0)
			break;
		done += size_t(n);
	}
	return done;
}

Result<size_t> pread_full(BorrowedFd fd, std::span<std::byte> buf, off_t off)
{
	size_t done = 0;
	while (done < buf.size()) {
		ssize_t n = ::pread(fd.get(), buf.data() + done, buf.size() - done, off + off_t(done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail_errno("pread at {}", off + off_t(done));
		}
		if (n == 0)
			break;
		done += size_t(n);
	}
	return done;
}

Result<> pwrite_full(BorrowedFd fd, std::span<const std::byte> buf, off_t off)
{
	size_t done = 0;
	while (done < buf.size()) {
		ssize_t n = ::pwrite(fd.get(), buf.data() + done, buf.size() - done, off + off_t(done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail_errno("pwrite at {}", off + off_t(done));
		}
		done += size_t(n);
	}
	return {};
}

Result<> write_full(BorrowedFd fd, std::span<const std::byte> buf)
{
	size_t done = 0;
	while (done < buf.size()) {
		ssize_t n = ::write(fd.get(), buf.data() + done, buf.size() - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail_errno("write");
		}
		done += size_t(n);
	}
	return {};
}

Result<> writev_full(BorrowedFd fd, std::span<struct iovec> iov)
{
	size_t first = 0;
	while (first < iov.size()) {
		int cnt = int(std::min<size_t>(iov.size() - first, IOV_MAX));
		ssize_t n = ::writev(fd.get(), iov.data() + first, cnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail_errno("writev");
		}
		size_t left = size_t(n);
		while (first < iov.size() && left >= iov[first].iov_len)
			left -= iov[first++].iov_len;
		if (left) {
			iov[first].iov_base = static_cast<char *>(iov[first].iov_base) + left;
			iov[first].iov_len -= left;
		}
		while (first < iov.size() && iov[first].iov_len == 0)
			first++;
	}
	return {};
}

Result<UniqueFd> open(const std::string &path, int flags, mode_t mode)
{
	return openat(BorrowedFd(AT_FDCWD), path, flags, mode);
}

Result<UniqueFd> openat(BorrowedFd dir, const std::string &path, int flags, mode_t mode)
{
	for (;;) {
		int fd = ::openat(dir.get(), path.c_str(), flags | O_CLOEXEC, mode);
		if (fd >= 0)
			return UniqueFd(fd);
		if (errno != EINTR)
			return fail_errno("open {}", path);
	}
}

Result<std::string> read_file(const std::string &path)
{
	UniqueFd fd = TRY(open(path, O_RDONLY));
	std::string out;
	char chunk[65536];
	for (;;) {
		size_t n = TRY_CTX(read_full(fd.borrow(), as_writable_bytes(chunk, sizeof(chunk))), "{}", path);
		out.append(chunk, n);
		if (n < sizeof(chunk))
			return out;
	}
}

} // namespace criu::xio
