#include "pages-image.h"

#include <algorithm>

#include "cipher.pb-c.h"
#include "common/xio.h"
#include "crypto/page-cipher.h"

namespace criu {

static_assert(kPageSize == crypto::kPageSize);

PagesWriter::PagesWriter(uint32_t id, std::string name, UniqueFd fd)
	: id_(id), name_(std::move(name)), fd_(std::move(fd))
{
}

PagesWriter::PagesWriter(PagesWriter &&) noexcept = default;
PagesWriter &PagesWriter::operator=(PagesWriter &&) noexcept = default;
PagesWriter::~PagesWriter() = default;

Result<> PagesWriter::write(std::span<struct iovec> iov)
{
	uint64_t n = 0;
	for (const auto &v : iov) {
		if (v.iov_len % kPageSize)
			return fail(EINVAL, "{}: write of {} bytes is not whole pages", name_, v.iov_len);
		n += v.iov_len / kPageSize;
	}
	if (cipher_) {
		tag_buf_.resize(n * crypto::kPageTagSize);
		uint64_t page = next_page_;
		uint8_t *tag = tag_buf_.data();
		for (const auto &v : iov) {
			size_t pages = v.iov_len / kPageSize;
			TRY_CTX(cipher_->seal(id_, page, {static_cast<uint8_t *>(v.iov_base), v.iov_len},
					      {tag, pages * crypto::kPageTagSize}),
				"{}", name_);
			page += pages;
			tag += pages * crypto::kPageTagSize;
		}
		PageTagsEntry e = PAGE_TAGS_ENTRY__INIT;
		e.first_page = next_page_;
		e.tags = {tag_buf_.size(), tag_buf_.data()};
		TRY(tags_->write(e.base));
	}
	TRY_CTX(xio::writev_full(fd_.borrow(), iov), "{}", name_);
	next_page_ += n;
	return {};
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
	tags_.clear();
	tags_.reserve(npages_ * crypto::kPageTagSize);
	while (auto msg = TRY(tags.read())) {
		const auto *e = pb_cast<PageTagsEntry>(*msg);
		if (e->first_page * crypto::kPageTagSize != tags_.size() || e->tags.len % crypto::kPageTagSize)
			return fail(EBADMSG, "{}: tags entry at page {} out of sequence", tags.name(), e->first_page);
		tags_.insert(tags_.end(), e->tags.data, e->tags.data + e->tags.len);
	}
	if (tags_.size() != npages_ * crypto::kPageTagSize)
		return fail(EBADMSG, "{} holds {} pages but {} has tags for {}", name_, npages_, tags.name(),
			    tags_.size() / crypto::kPageTagSize);
	return {};
}

Result<> PagesReader::read(uint64_t first, std::span<uint8_t> dst)
{
	if (dst.size() % kPageSize)
		return fail(EINVAL, "{}: read of {} bytes is not whole pages", name_, dst.size());
	uint64_t n = dst.size() / kPageSize;
	if (first > npages_ || n > npages_ - first)
		return fail(EINVAL, "{}: pages {}..{} beyond its {} pages", name_, first, first + n, npages_);
	size_t got = TRY_CTX(xio::pread_full(fd_.borrow(), std::as_writable_bytes(dst), off_t(first * kPageSize)),
			     "{}", name_);
	if (got != dst.size())
		return fail(EIO, "{}: short read at page {}", name_, first);
	if (cipher_) {
		std::span<const uint8_t> tags(tags_.data() + first * crypto::kPageTagSize, n * crypto::kPageTagSize);
		TRY_CTX(cipher_->open(id_, first, dst, tags), "{}", name_);
	}
	return {};
}

} // namespace criu
