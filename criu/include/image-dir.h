// The images directory: opens images by kind and id under CRIU's file names, and owns the
// checkpoint's keys when the directory is sealed (cipher.img present).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/result.h"
#include "common/unique-fd.h"
#include "image.h"
#include "images/kinds.h"
#include "pages-image.h"

namespace criu::crypto {
class Keyring;
}

namespace criu {

class ImageDir {
public:
	// For dump: opens (creating) the directory. With certificates the directory is sealed:
	// a fresh key is made, wrapped for each certificate into cipher.img, and every image
	// created afterwards is sealed with it.
	[[nodiscard]] static Result<ImageDir> create(const std::string &path,
						     std::span<const std::string> certs = {});
	// For restore and inspection: opens an existing directory. When cipher.img is there the
	// private key at key_path unwraps it; a missing or wrong key is an error here.
	[[nodiscard]] static Result<ImageDir> open(const std::string &path, const std::string &key_path);

	const std::string &path() const { return path_; }
	BorrowedFd fd() const { return dir_.borrow(); }
	// Moves the directory's fd above `above` (a restoring task installs its own fds below).
	[[nodiscard]] Result<> move_fd_above(int above);
	bool sealed() const { return keyring_ != nullptr; }
	// True once an image of this directory has been read to its authenticated end.
	bool read_to_end(const std::string &name) const { return read_to_end_->count(name) != 0; }

	[[nodiscard]] Result<ImageWriter> create_image(img::Kind kind, uint64_t id = 0);
	[[nodiscard]] Result<ImageReader> open_image(img::Kind kind, uint64_t id = 0);
	// Like open_image, but a missing file is not an error.
	[[nodiscard]] Result<std::optional<ImageReader>> open_image_optional(img::Kind kind, uint64_t id = 0);
	// An image by file name (crit); the kind is taken from its magic.
	[[nodiscard]] Result<ImageReader> open_image_file(const std::string &name);

	[[nodiscard]] Result<PagesWriter> create_pages(uint32_t pages_id);
	// A reader of pages-<id>.img. Sealed, its tags are read and authenticated the first time;
	// later readers (and tasks forked since) share them.
	[[nodiscard]] Result<PagesReader> open_pages(uint32_t pages_id);

	ImageDir(ImageDir &&) noexcept;
	ImageDir &operator=(ImageDir &&) noexcept;
	~ImageDir();

private:
	ImageDir(std::string path, UniqueFd dir, std::unique_ptr<crypto::Keyring> keyring);
	[[nodiscard]] Result<ImageReader> open_reader(const img::KindInfo &kind, const std::string &name, UniqueFd fd);
	std::unique_ptr<Framing> framing_for(const std::string &name) const;

	std::string path_;
	UniqueFd dir_;
	std::unique_ptr<crypto::Keyring> keyring_;
	std::shared_ptr<std::set<std::string>> read_to_end_ = std::make_shared<std::set<std::string>>();
	std::map<uint32_t, std::shared_ptr<const Bytes>> page_tags_; // by pages id, once read
};

// cipher.img's name, for tools that look for it.
inline constexpr const char *kCipherImage = "cipher.img";

} // namespace criu
