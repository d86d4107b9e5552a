#include "pages-image.h"

#include <fcntl.h>

#include <algorithm>

#include "cipher.pb-c.h"
#include "common/xio.h"
#include "crypto/page-cipher.h"

namespace criu {

static_assert(kPageSize == crypto::kPageSize);

PageSealer::PageSealer(uint32_t id, std::unique_ptr<crypto::PageCipher> cipher)
	: id_(id), cipher_(std::move(cipher))
{
}

PageSealer::PageSealer(PageSealer &&) noexcept = default;
PageSealer &PageSealer::operator=(PageSealer &&) noexcept = default;
PageSealer::~PageSealer() = default;

Result<> PageSealer::seal(uint64_t first_page, std::span<uint8_t> pages, std::span<uint8_t> tags)
{
	if (!cipher_)
		return {};
	return cipher_->seal(id_, first_page, pages, tags);
}

PagesWriter::PagesWriter(uint32_t id, std::string name, UniqueFd fd, const crypto::Keyring *kr)
	: id_(id), name_(std::move(name)), fd_(std::move(fd)), keyring_(kr)
{
}

PagesWriter::PagesWriter(PagesWriter &&) noexcept = default;
PagesWriter &PagesWriter::operator=(PagesWriter &&) noexcept = default;
PagesWriter::~PagesWriter() = default;

Result<PageSealer> PagesWriter::make_sealer() const
{
	if (!keyring_)
		return PageSealer(id_, nullptr);
	return PageSealer(id_, std::make_unique<crypto::PageCipher>(TRY(crypto::PageCipher::create(*keyring_))));
}

Result<> PagesWriter::write_sealed(uint64_t first_page, std::span<struct iovec> iov, std::span<const uint8_t> tags)
{
	uint64_t n = 0;
	for (const auto &v : iov) {
		if (v.iov_len % kPageSize)
			return fail(EINVAL, "{}: write of {} bytes is not whole pages", name_, v.iov_len);
		n += v.iov_len / kPageSize;
	}
	if (first_page != next_page_)
		return fail(EINVAL, "{}: pages sealed for index {} written at {}", name_, first_page, next_page_);
	if (tags_ && tags.size() != n * crypto::kPageTagSize)
		return fail(EINVAL, "{}: {} tags for {} pages", name_, tags.size() / crypto::kPageTagSize, n);
	TRY_CTX(xio::writev_full(fd_.borrow(), iov), "{}", name_);
	return commit(first_page, n, tags);
}

Result<> PagesWriter::put(uint64_t first_page, std::span<const uint8_t> pages) const
{
	if (pages.size() % kPageSize)
		return fail(EINVAL, "{}: write of {} bytes is not whole pages", name_, pages.size());
	TRY_CTX(xio::pwrite_full(fd_.borrow(), std::as_bytes(pages), off_t(first_page * kPageSize)), "{}", name_);
	return {};
}

Result<> PagesWriter::commit(uint64_t first_page, uint64_t npages, std::span<const uint8_t> tags)
{
	if (first_page != next_page_)
		return fail(EINVAL, "{}: pages sealed for index {} recorded at {}", name_, first_page, next_page_);
	if (tags_) {
		if (tags.size() != npages * crypto::kPageTagSize)
			return fail(EINVAL, "{}: {} tags for {} pages", name_, tags.size() / crypto::kPageTagSize, npages);
		PageTagsEntry e = PAGE_TAGS_ENTRY__INIT;
		e.first_page = first_page;
		e.tags = {tags.size(), const_cast<uint8_t *>(tags.data())};
		TRY(tags_->write(e.base));
	}
	next_page_ += npages;
	return {};
}

Result<> PagesWriter::write(std::span<struct iovec> iov)
{
	if (!own_sealer_)
		own_sealer_.emplace(TRY(make_sealer()));
	uint64_t n = 0;
	for (const auto &v : iov)
		n += v.iov_len / kPageSize;
	tag_buf_.resize(own_sealer_->sealed() ? n * crypto::kPageTagSize : 0);
	uint64_t page = next_page_;
	uint8_t *tag = tag_buf_.data();
	for (const auto &v : iov) {
		size_t pages = v.iov_len / kPageSize;
		size_t tag_len = own_sealer_->sealed() ? pages * crypto::kPageTagSize : 0;
		// the page cipher's errors name the page and the image
		TRY(own_sealer_->seal(page, {static_cast<uint8_t *>(v.iov_base), pages * kPageSize}, {tag, tag_len}));
		page += pages;
		tag += tag_len;
	}
	return write_sealed(next_page_, iov, tag_buf_);
}

Result<> PagesWriter::write(std::span<uint8_t> pages)
{
	struct iovec v = {pages.data(), pages.size()};
	return write(std::span(&v, 1));
}

Result<> PagesWriter::close()
{
	if (tags_)
		TRY(tags_->close());
	return {};
}

PagesReader::PagesReader(uint32_t id, std::string name, UniqueFd fd, uint64_t npages)
	: id_(id), name_(std::move(name)), fd_(std::move(fd)), npages_(npages)
{
}

PagesReader::PagesReader(PagesReader &&) noexcept = default;
PagesReader &PagesReader::operator=(PagesReader &&) noexcept = default;
PagesReader::~PagesReader() = default;

Result<> PagesReader::load_tags(ImageReader &tags)
{
	auto all = std::make_shared<Bytes>();
	all->reserve(npages_ * crypto::kPageTagSize);
	while (auto msg = TRY(tags.read())) {
		const auto *e = pb_cast<PageTagsEntry>(*msg);
		if (e->first_page * crypto::kPageTagSize != all->size() || e->tags.len % crypto::kPageTagSize)
			return fail(EBADMSG, "{}: tags entry at page {} out of sequence", tags.name(), e->first_page);
		all->insert(all->end(), e->tags.data, e->tags.data + e->tags.len);
	}
	if (all->size() != npages_ * crypto::kPageTagSize)
		return fail(EBADMSG, "{} holds {} pages but {} has tags for {}", name_, npages_, tags.name(),
			    all->size() / crypto::kPageTagSize);
	tags_ = std::move(all);
	return {};
}

Result<PagesReader> PagesReader::share() const
{
	int fd = fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return fail_errno("{}: dup", name_);
	PagesReader r(id_, name_, UniqueFd(fd), npages_);
	r.keyring_ = keyring_;
	r.tags_ = tags_;
	if (keyring_)
		r.cipher_ = std::make_unique<crypto::PageCipher>(TRY(crypto::PageCipher::create(*keyring_)));
	return r;
}

Result<> PagesReader::read(uint64_t first, std::span<uint8_t> dst)
{
	if (dst.size() % kPageSize)
		return fail(EINVAL, "{}: read of {} bytes is not whole pages", name_, dst.size());
	uint64_t n = dst.size() / kPageSize;
	if (first > npages_ || n > npages_ - first)
		return fail(EINVAL, "{}: pages {}..{} beyond its {} pages", name_, first, first + n, npages_);
	if (cipher_)
		return read_sealed(first, dst);
	size_t got = TRY_CTX(xio::pread_full(fd_.borrow(), std::as_writable_bytes(dst), off_t(first * kPageSize)), "{}",
			     name_);
	if (got != dst.size())
		return fail(EIO, "{}: short read at page {}", name_, first + got / kPageSize);
	return {};
}

// Sealed pages go through a small buffer that stays in cache: read, verified, and decrypted
// from there straight into dst. So dst is written once, and what is verified is what is
// decrypted (the buffer is ours; the file may change under a mapping).
Result<> PagesReader::read_sealed(uint64_t first, std::span<uint8_t> dst)
{
	constexpr uint64_t kChunk = 16;
	if (!bounce_) {
		bounce_.reset(static_cast<uint8_t *>(aligned_alloc(kPageSize, kChunk * kPageSize)));
		if (!bounce_)
			return fail(ENOMEM, "{}: no memory for a buffer of {} pages", name_, kChunk);
	}
	uint64_t n = dst.size() / kPageSize;
	for (uint64_t done = 0; done < n;) {
		uint64_t page = first + done, cnt = std::min(kChunk, n - done);
		std::span<uint8_t> sealed(bounce_.get(), cnt * kPageSize);
		size_t got = TRY_CTX(xio::pread_full(fd_.borrow(), std::as_writable_bytes(sealed), off_t(page * kPageSize)),
				     "{}", name_);
		if (got != sealed.size())
			return fail(EIO, "{}: short read at page {}", name_, page);
		// Its errors name the page and the image.
		TRY(cipher_->open(id_, page, sealed, {tags_->data() + page * crypto::kPageTagSize, cnt * crypto::kPageTagSize},
				  dst.subspan(done * kPageSize, cnt * kPageSize)));
		done += cnt;
	}
	return {};
}

} // namespace criu
