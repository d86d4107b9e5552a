// Storage for protobuf-c messages built on dump: messages, repeated fields and strings live
// until the arena goes, so a message tree can point into it freely and be written at the end.
#pragma once

#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace criu {

class PbArena {
public:
	// A new message, initialized by its generated __init function.
	template <typename T> T *make(void (*init)(T *))
	{
		auto p = std::make_shared<T>();
		init(p.get());
		keep_.push_back(p);
		return p.get();
	}

	// A copy of v (nullptr when empty, as protobuf-c expects for n = 0).
	template <typename T> T *array(std::span<const T> v)
	{
		if (v.empty())
			return nullptr;
		std::shared_ptr<T[]> p(new T[v.size()]);
		std::memcpy(static_cast<void *>(p.get()), v.data(), v.size_bytes());
		keep_.push_back(p);
		return p.get();
	}
	template <typename T> T *array(const std::vector<T> &v) { return array(std::span<const T>(v)); }

	// An array of n pointers, to be filled by the caller.
	template <typename T> T **pointers(size_t n)
	{
		if (n == 0)
			return nullptr;
		std::shared_ptr<T *[]> p(new T *[n]());
		keep_.push_back(p);
		return p.get();
	}

	char *str(const std::string &s)
	{
		std::shared_ptr<char[]> p(new char[s.size() + 1]);
		std::memcpy(p.get(), s.c_str(), s.size() + 1);
		keep_.push_back(p);
		return p.get();
	}

private:
	std::vector<std::shared_ptr<void>> keep_;
};

} // namespace criu
