// Move-only owner of a file descriptor, and a non-owning view for parameters.
#pragma once

#include <unistd.h>

#include <utility>

namespace criu {

class BorrowedFd {
public:
	explicit BorrowedFd(int fd) : fd_(fd) {}
	int get() const { return fd_; }

private:
	int fd_;
};

class UniqueFd {
public:
	UniqueFd() = default;
	explicit UniqueFd(int fd) : fd_(fd) {}
	UniqueFd(UniqueFd &&o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
	UniqueFd &operator=(UniqueFd &&o) noexcept
	{
		if (this != &o)
			reset(std::exchange(o.fd_, -1));
		return *this;
	}
	UniqueFd(const UniqueFd &) = delete;
	UniqueFd &operator=(const UniqueFd &) = delete;
	~UniqueFd() { reset(); }

	int get() const { return fd_; }
	bool valid() const { return fd_ >= 0; }
	explicit operator bool() const { return valid(); }
	BorrowedFd borrow() const { return BorrowedFd(fd_); }

	[[nodiscard]] int release() { return std::exchange(fd_, -1); }

	// close() is never retried: on Linux the fd is gone even when close reports EINTR.
	void reset(int fd = -1)
	{
		if (fd_ >= 0)
			::close(fd_);
		fd_ = fd;
	}

private:
	int fd_ = -1;
};

} // namespace criu
