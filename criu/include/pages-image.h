// Raw page images (pages-N.img): page-sized blocks written with large vectored writes.
// In a sealed directory every page is encrypted in place with the page cipher and its tag
// goes to pagetags-N.img; reading verifies the tags and decrypts in the caller's buffer.
#pragma once

#include <sys/uio.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique-fd.h"
#include "image.h"

namespace criu::crypto {
class Keyring;
class PageCipher;
}

namespace criu {

constexpr size_t kPageSize = 4096;

class PagesWriter {
public:
	uint32_t id() const { return id_; }
	uint64_t pages() const { return next_page_; }

	// Appends the pages in iov (each length a multiple of the page size). When sealed the
	// buffers are encrypted in place: their content is ciphertext afterwards.
	[[nodiscard]] Result<> write(std::span<struct iovec> iov);
	[[nodiscard]] Result<> write(std::span<uint8_t> pages);
	[[nodiscard]] Result<> close();

	PagesWriter(PagesWriter &&) noexcept;
	PagesWriter &operator=(PagesWriter &&) noexcept;
	~PagesWriter();

private:
	friend class ImageDir;
	PagesWriter(uint32_t id, std::string name, UniqueFd fd);

	uint32_t id_;
	std::string name_;
	UniqueFd fd_;
	uint64_t next_page_ = 0;
	std::unique_ptr<crypto::PageCipher> cipher_;
	std::optional<ImageWriter> tags_;
	Bytes tag_buf_;
};

class PagesReader {
public:
	uint32_t id() const { return id_; }
	uint64_t pages() const { return npages_; }

	// Reads pages [first, first + dst.size()/page) into dst and, when sealed, verifies and
	// decrypts them there.
	[[nodiscard]] Result<> read(uint64_t first, std::span<uint8_t> dst);

	PagesReader(PagesReader &&) noexcept;
	PagesReader &operator=(PagesReader &&) noexcept;
	~PagesReader();

private:
	friend class ImageDir;
	PagesReader(uint32_t id, std::string name, UniqueFd fd, uint64_t npages);
	[[nodiscard]] Result<> load_tags(ImageReader &tags);

	uint32_t id_;
	std::string name_;
	UniqueFd fd_;
	uint64_t npages_;
	std::unique_ptr<crypto::PageCipher> cipher_;
	Bytes tags_; // kPageTagSize per page, dense
};

} // namespace criu
