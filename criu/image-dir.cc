#define LOG_PREFIX "img: "
#include "image-dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cipher-image.h"
#include "common/log.h"
#include "common/xio.h"
#include "crypto/keyring.h"
#include "crypto/page-cipher.h"

namespace criu {

ImageDir::ImageDir(std::string path, UniqueFd dir, std::unique_ptr<crypto::Keyring> keyring)
	: path_(std::move(path)), dir_(std::move(dir)), keyring_(std::move(keyring))
{
}

ImageDir::ImageDir(ImageDir &&) noexcept = default;
ImageDir &ImageDir::operator=(ImageDir &&) noexcept = default;
ImageDir::~ImageDir() = default;

Result<ImageDir> ImageDir::create(const std::string &path, std::span<const std::string> certs)
{
	if (mkdir(path.c_str(), 0700) < 0 && errno != EEXIST)
		return fail_errno("can't create images directory {}", path);
	UniqueFd dir = TRY_CTX(xio::open(path, O_RDONLY | O_DIRECTORY), "images directory");
	std::unique_ptr<crypto::Keyring> kr;
	if (!certs.empty()) {
		kr = std::make_unique<crypto::Keyring>(TRY(crypto::Keyring::create(certs, crypto::fastest_entry_alg())));
		TRY_CTX(write_cipher_image(dir.borrow(), kr->envelope()), "{}", path);
		pr_info("images in {} are sealed for {} certificate(s)", path, certs.size());
	}
	return ImageDir(path, std::move(dir), std::move(kr));
}

Result<ImageDir> ImageDir::open(const std::string &path, const std::string &key_path)
{
	UniqueFd dir = TRY_CTX(xio::open(path, O_RDONLY | O_DIRECTORY), "images directory");
	auto env = TRY_CTX(read_cipher_image(dir.borrow()), "{}", path);
	std::unique_ptr<crypto::Keyring> kr;
	if (env) {
		if (key_path.empty())
			return fail(ENOKEY, "images in {} are sealed; a private key is needed (--tls-key)", path);
		kr = std::make_unique<crypto::Keyring>(
			TRY_CTX(crypto::Keyring::open(*env, key_path), "{}", path));
		pr_info("images in {} are sealed; opened with {}", path, key_path);
	}
	return ImageDir(path, std::move(dir), std::move(kr));
}

std::unique_ptr<Framing> ImageDir::framing_for(const std::string &name) const
{
	if (keyring_)
		return make_sealed_framing(*keyring_, name);
	return make_plain_framing();
}

Result<ImageWriter> ImageDir::create_image(img::Kind kind, uint64_t id)
{
	std::string name = img::file_name(kind, id);
	return create_image_at(dir_.borrow(), img::info(kind), name, framing_for(name));
}

Result<ImageReader> ImageDir::open_image(img::Kind kind, uint64_t id)
{
	std::string name = img::file_name(kind, id);
	ImageReader r = TRY(open_image_at(dir_.borrow(), img::info(kind), name, framing_for(name)));
	r.record_end_in(read_to_end_);
	return r;
}

Result<std::optional<ImageReader>> ImageDir::open_image_optional(img::Kind kind, uint64_t id)
{
	auto r = open_image(kind, id);
	if (!r) {
		if (r.error().code() == ENOENT)
			return std::nullopt;
		return std::unexpected(r.error());
	}
	return std::move(*r);
}

Result<ImageReader> ImageDir::open_image_file(const std::string &name)
{
	UniqueFd fd = TRY(xio::openat(dir_.borrow(), name, O_RDONLY));
	const img::KindInfo *kind = TRY(identify_image(fd.borrow(), name));
	if (kind->kind == img::Kind::Cipher)
		return open_image_at(dir_.borrow(), *kind, name, make_plain_framing());
	ImageReader r = TRY(open_image_at(dir_.borrow(), *kind, name, framing_for(name)));
	r.record_end_in(read_to_end_);
	return r;
}

Result<PagesWriter> ImageDir::create_pages(uint32_t pages_id)
{
	std::string name = img::file_name(img::Kind::Pages, pages_id);
	UniqueFd fd = TRY(xio::openat(dir_.borrow(), name, O_WRONLY | O_CREAT | O_TRUNC, 0600));
	PagesWriter w(pages_id, name, std::move(fd), keyring_.get());
	if (keyring_)
		w.tags_.emplace(TRY(create_image(img::Kind::PageTags, pages_id)));
	return w;
}

Result<> ImageDir::move_fd_above(int above)
{
	int fd = fcntl(dir_.get(), F_DUPFD_CLOEXEC, above + 1);
	if (fd < 0)
		return fail_errno("{}: can't move its fd above {}", path_, above);
	dir_ = UniqueFd(fd);
	return {};
}

Result<PagesReader> ImageDir::open_pages(uint32_t pages_id)
{
	std::string name = img::file_name(img::Kind::Pages, pages_id);
	UniqueFd fd = TRY(xio::openat(dir_.borrow(), name, O_RDONLY));
	struct stat st;
	if (fstat(fd.get(), &st) < 0)
		return fail_errno("{}: stat", name);
	if (st.st_size % kPageSize)
		return fail(EBADMSG, "{}: size {} is not a whole number of pages", name, st.st_size);
	PagesReader r(pages_id, name, std::move(fd), uint64_t(st.st_size) / kPageSize);
	std::string tags_name = img::file_name(img::Kind::PageTags, pages_id);
	if (!keyring_ && faccessat(dir_.get(), tags_name.c_str(), F_OK, 0) == 0)
		return fail(EBADMSG, "{}: sealed ({} beside it), but there is no cipher.img", name, tags_name);
	if (keyring_) {
		r.keyring_ = keyring_.get();
		r.cipher_ = std::make_unique<crypto::PageCipher>(TRY(crypto::PageCipher::create(*keyring_)));
		auto known = page_tags_.find(pages_id);
		if (known == page_tags_.end()) { // load_tags checks there is a tag for every page
			auto tags = TRY_CTX(open_image(img::Kind::PageTags, pages_id), "tags of {}", name);
			TRY(r.load_tags(tags));
			page_tags_.emplace(pages_id, r.tags_);
		} else if (known->second->size() != r.npages_ * crypto::kPageTagSize) { // the file changed since
			return fail(EBADMSG, "{} holds {} pages but has tags for {}", name, r.npages_,
				    known->second->size() / crypto::kPageTagSize);
		} else {
			r.tags_ = known->second;
		}
	}
	return r;
}

} // namespace criu
