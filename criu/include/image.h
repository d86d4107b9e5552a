// Image files: CRIU's magic header, then entries through a Framing (plain or sealed).
#pragma once

#include <protobuf-c/protobuf-c.h>

#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>

#include "common/result.h"
#include "framing.h"
#include "images/kinds.h"

namespace criu {

struct PbFree {
	void operator()(ProtobufCMessage *m) const { protobuf_c_message_free_unpacked(m, nullptr); }
};
// An unpacked protobuf-c message, freed on scope exit.
using PbMsg = std::unique_ptr<ProtobufCMessage, PbFree>;

// Typed view of an unpacked message: T is the generated struct (CoreEntry, ...).
template <typename T> T *pb_cast(const PbMsg &m) { return reinterpret_cast<T *>(m.get()); }

class ImageWriter {
public:
	const std::string &name() const { return name_; }
	const img::KindInfo &kind() const { return *kind_; }

	// Packs and writes one entry (the kind's message, or its head message first).
	[[nodiscard]] Result<> write(const ProtobufCMessage &msg);
	// Writes the raw payload that some kinds carry after an entry (pipe data, file contents).
	[[nodiscard]] Result<> write_raw(std::span<const uint8_t> data);
	// Closes the image: end record when sealed, then flush. An image not closed is incomplete.
	[[nodiscard]] Result<> close();

	ImageWriter(ImageWriter &&) noexcept = default;
	ImageWriter &operator=(ImageWriter &&) noexcept = default;
	~ImageWriter() = default;

private:
	friend Result<ImageWriter> create_image_at(BorrowedFd, const img::KindInfo &, std::string,
						   std::unique_ptr<Framing>);
	ImageWriter(const img::KindInfo &kind, std::string name, UniqueFd fd, std::unique_ptr<Framing> framing);
	[[nodiscard]] Result<> begin();

	const img::KindInfo *kind_;
	std::string name_;
	OutBuffer out_;
	std::unique_ptr<Framing> framing_;
	Bytes pack_buf_;
	bool closed_ = false;
};

class ImageReader {
public:
	const std::string &name() const { return name_; }
	const img::KindInfo &kind() const { return *kind_; }
	bool sealed() const { return framing_->sealed(); }

	// The next entry unpacked as desc (default: the kind's entry message); nullopt at the end.
	[[nodiscard]] Result<std::optional<PbMsg>> read(const ProtobufCMessageDescriptor *desc = nullptr);
	// Reads exactly out.size() bytes of raw payload.
	[[nodiscard]] Result<> read_raw(std::span<uint8_t> out);
	// Reads all raw payload up to the end of the image.
	[[nodiscard]] Result<> read_raw_to_end(Bytes &out);

	// Once the image's end has been read (and, sealed, authenticated), its name goes into
	// *ledger: the images directory keeps it to know what need not be read again.
	void record_end_in(std::shared_ptr<std::set<std::string>> ledger) { ledger_ = std::move(ledger); }

	ImageReader(ImageReader &&) noexcept = default;
	ImageReader &operator=(ImageReader &&) noexcept = default;
	~ImageReader() = default;

private:
	friend Result<ImageReader> open_image_at(BorrowedFd, const img::KindInfo &, std::string,
						 std::unique_ptr<Framing>);
	ImageReader(const img::KindInfo &kind, std::string name, UniqueFd fd, std::unique_ptr<Framing> framing);
	[[nodiscard]] Result<> begin();

	const img::KindInfo *kind_;
	std::string name_;
	InBuffer in_;
	std::unique_ptr<Framing> framing_;
	std::shared_ptr<std::set<std::string>> ledger_;
};

// Creates (truncating) dir/name and writes the kind's magic through the given framing.
[[nodiscard]] Result<ImageWriter> create_image_at(BorrowedFd dir, const img::KindInfo &kind, std::string name,
						  std::unique_ptr<Framing> framing);
// Opens dir/name and checks the kind's magic; ENOENT when the file is missing.
[[nodiscard]] Result<ImageReader> open_image_at(BorrowedFd dir, const img::KindInfo &kind, std::string name,
						std::unique_ptr<Framing> framing);

// Reads the magic(s) at the start of an image file and finds its kind; raw files are not
// recognised (they have no magic). Used by crit on files of unknown kind.
[[nodiscard]] Result<const img::KindInfo *> identify_image(BorrowedFd fd, const std::string &name);

} // namespace criu
