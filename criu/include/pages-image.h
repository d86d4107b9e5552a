// Raw page images (pages-N.img): page-sized blocks written with large vectored writes.
// In a sealed directory every page is encrypted in place with the page cipher and its tag
// goes to pagetags-N.img; reading verifies the tags and decrypts in the caller's buffer.
#pragma once

#include <sys/uio.h>

#include <cstdlib>
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

// Seals batches of pages for one PagesWriter; one per thread, so batches can be sealed in
// parallel and written in order. In a plain directory it leaves pages as they are.
class PageSealer {
public:
	bool sealed() const { return cipher_ != nullptr; }
	// Encrypts pages (which will sit at page index first_page of the pages image) in place and
	// writes their tags (kPageTagSize each) into tags.
	[[nodiscard]] Result<> seal(uint64_t first_page, std::span<uint8_t> pages, std::span<uint8_t> tags);

	PageSealer(PageSealer &&) noexcept;
	PageSealer &operator=(PageSealer &&) noexcept;
	~PageSealer();

private:
	friend class PagesWriter;
	PageSealer(uint32_t id, std::unique_ptr<crypto::PageCipher> cipher);
	uint32_t id_;
	std::unique_ptr<crypto::PageCipher> cipher_;
};

class PagesWriter {
public:
	uint32_t id() const { return id_; }
	uint64_t pages() const { return next_page_; }
	bool sealed() const { return tags_.has_value(); }

	// A sealer for another thread.
	[[nodiscard]] Result<PageSealer> make_sealer() const;
	// Appends pages sealed by a PageSealer at index first_page (which must be pages()), with
	// their tags (ignored when plain).
	[[nodiscard]] Result<> write_sealed(uint64_t first_page, std::span<struct iovec> iov, std::span<const uint8_t> tags);
	// The same in two steps, so that several threads can write pages: put() writes pages
	// sealed for index first_page at their place in the image (any thread, any order); commit()
	// records them with their tags, in order (first_page must be pages()).
	[[nodiscard]] Result<> put(uint64_t first_page, std::span<const uint8_t> pages) const;
	[[nodiscard]] Result<> commit(uint64_t first_page, uint64_t npages, std::span<const uint8_t> tags);

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
	PagesWriter(uint32_t id, std::string name, UniqueFd fd, const crypto::Keyring *kr);

	uint32_t id_;
	std::string name_;
	UniqueFd fd_;
	const crypto::Keyring *keyring_; // null when plain
	uint64_t next_page_ = 0;
	std::optional<PageSealer> own_sealer_;
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

	// A reader of the same image for another thread (its own cipher, the same tags).
	[[nodiscard]] Result<PagesReader> share() const;

	PagesReader(PagesReader &&) noexcept;
	PagesReader &operator=(PagesReader &&) noexcept;
	~PagesReader();

private:
	friend class ImageDir;
	PagesReader(uint32_t id, std::string name, UniqueFd fd, uint64_t npages);
	[[nodiscard]] Result<> load_tags(ImageReader &tags);
	[[nodiscard]] Result<> read_sealed(uint64_t first, std::span<uint8_t> dst);

	uint32_t id_;
	std::string name_;
	UniqueFd fd_;
	uint64_t npages_;
	const crypto::Keyring *keyring_ = nullptr; // null when plain
	std::unique_ptr<crypto::PageCipher> cipher_;
	std::shared_ptr<const Bytes> tags_; // kPageTagSize per page, dense
	// Sealed pages on their way in (ciphertext only), page-aligned: the kernel copies the file's
	// pages into it with REP MOVSB, which on AMD Zen 3 runs at a twentieth of its speed when
	// source and destination are 1-31 bytes apart modulo 4 KiB (a malloc'd buffer may start
	// 16 bytes into a page) and at about two thirds when they are not 32-byte apart.
	struct FreeDeleter {
		void operator()(uint8_t *p) const { free(p); }
	};
	std::unique_ptr<uint8_t, FreeDeleter> bounce_;
};

} // namespace criu
