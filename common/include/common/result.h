// Errors as values: Result<T> carries either a T or an Error with errno and a message that
// was built where the failure happened. TRY(expr) unwraps a Result or returns its error.
#pragma once

#include <cerrno>
#include <expected>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace criu {

class Error {
public:
	Error(int code, std::string msg) : code_(code), msg_(std::move(msg)) {}

	int code() const { return code_; }
	const std::string &message() const { return msg_; }

	// Prefixes the message with what the caller was doing: "open core-1.img: <msg>".
	Error &context(std::string_view what)
	{
		msg_ = fmt::format("{}: {}", what, msg_);
		return *this;
	}

	// The message followed by strerror(code) when a code is set.
	std::string describe() const;

private:
	int code_;
	std::string msg_;
};

template <typename T = void> using Result = std::expected<T, Error>;

// Builds an error from a format string; code 0 means "no errno involved".
template <typename... Args>
[[nodiscard]] std::unexpected<Error> fail(int code, fmt::format_string<Args...> f, Args &&...args)
{
	return std::unexpected(Error(code, fmt::format(f, std::forward<Args>(args)...)));
}

// Same, capturing the current errno.
template <typename... Args>
[[nodiscard]] std::unexpected<Error> fail_errno(fmt::format_string<Args...> f, Args &&...args)
{
	int saved = errno;
	return std::unexpected(Error(saved, fmt::format(f, std::forward<Args>(args)...)));
}

namespace detail {
template <typename T> T unwrap(std::expected<T, Error> &&r) { return std::move(*r); }
inline void unwrap(std::expected<void, Error> &&) {}
} // namespace detail

} // namespace criu

// Evaluates a Result; on error returns it from the enclosing function, otherwise yields the value.
#define TRY(expr)                                                                \
	({                                                                       \
		auto _try_r = (expr);                                            \
		if (!_try_r.has_value())                                         \
			return std::unexpected(std::move(_try_r).error());       \
		::criu::detail::unwrap(std::move(_try_r));                       \
	})

// Like TRY, adding context to the error on the way out.
#define TRY_CTX(expr, ...)                                                       \
	({                                                                       \
		auto _try_r = (expr);                                            \
		if (!_try_r.has_value())                                         \
			return std::unexpected(std::move(_try_r.error())        \
				.context(fmt::format(__VA_ARGS__)));             \
		::criu::detail::unwrap(std::move(_try_r));                       \
	})
