#include "common/result.h"

#include <cstring>

namespace criu {

std::string Error::describe() const
{
	if (code_ == 0)
		return msg_;
	return fmt::format("{}: {}", msg_, strerror(code_));
}

} // namespace criu
