// One RAII template for every C handle: Traits names the empty value and how to free it.
//   struct DirTraits { static DIR *invalid() { return nullptr; } static void close(DIR *d) { closedir(d); } };
//   using ScopedDir = ScopedHandle<DIR *, DirTraits>;
#pragma once

#include <utility>

namespace criu {

template <typename T, typename Traits> class ScopedHandle {
public:
	ScopedHandle() = default;
	explicit ScopedHandle(T h) : h_(h) {}
	ScopedHandle(ScopedHandle &&o) noexcept : h_(std::exchange(o.h_, Traits::invalid())) {}
	ScopedHandle &operator=(ScopedHandle &&o) noexcept
	{
		if (this != &o)
			reset(std::exchange(o.h_, Traits::invalid()));
		return *this;
	}
	ScopedHandle(const ScopedHandle &) = delete;
	ScopedHandle &operator=(const ScopedHandle &) = delete;
	~ScopedHandle() { reset(); }

	T get() const { return h_; }
	T *out() { reset(); return &h_; }
	bool valid() const { return h_ != Traits::invalid(); }
	explicit operator bool() const { return valid(); }
	[[nodiscard]] T release() { return std::exchange(h_, Traits::invalid()); }

	void reset(T h = Traits::invalid())
	{
		if (h_ != Traits::invalid())
			Traits::close(h_);
		h_ = h;
	}

private:
	T h_ = Traits::invalid();
};

} // namespace criu
