// Sealed records: one AEAD handle per image, nonce = header salt || record index.
#include "crypto/record.h"

#include <algorithm>

#include "gnutls-util.h"
#include "keys.h"

namespace criu::crypto {

namespace {

constexpr uint8_t kSealVersion = 1;
constexpr size_t kSaltOffset = 8;
constexpr size_t kHeaderSaltSize = 8;
constexpr size_t kNonceSize = 12;
// AD layout: seal header(16) | type u8 | index u64 LE | image name
constexpr size_t kAdTypeOffset = kSealHeaderSize;
constexpr size_t kAdIndexOffset = kAdTypeOffset + 1;
constexpr size_t kAdNameOffset = kAdIndexOffset + 8;

gnutls_cipher_algorithm_t gnutls_alg(EntryAlg alg)
{
	return alg == EntryAlg::Aes256Gcm ? GNUTLS_CIPHER_AES_256_GCM : GNUTLS_CIPHER_CHACHA20_POLY1305;
}

std::string type_name(RecordType type)
{
	switch (type) {
	case RecordType::Entry:
		return "entry";
	case RecordType::Raw:
		return "raw";
	case RecordType::End:
		return "end";
	}
	return std::to_string(unsigned(type));
}

bool type_known(RecordType type)
{
	return type == RecordType::Entry || type == RecordType::Raw || type == RecordType::End;
}

} // namespace

struct RecordCtx {
	ScopedAead aead;
	std::array<uint8_t, kSealHeaderSize> header;
	Bytes ad;
	std::array<uint8_t, kNonceSize> nonce;
	uint64_t index = 0;

	static Result<std::unique_ptr<RecordCtx>> make(const Keyring &kr, std::string_view image_name,
						       std::span<const uint8_t, kSealHeaderSize> header)
	{
		auto ctx = std::make_unique<RecordCtx>();
		const auto &key = kr.keys().entry;
		gnutls_datum_t k = datum(key.data(), key.size());
		int ret = gnutls_aead_cipher_init(ctx->aead.out(), gnutls_alg(kr.envelope().entry_alg), &k);
		if (ret < 0)
			return fail_gnutls(ret, EINVAL, "{}: AEAD setup", image_name);
		std::copy(header.begin(), header.end(), ctx->header.begin());
		std::copy_n(header.begin() + kSaltOffset, kHeaderSaltSize, ctx->nonce.begin());
		ctx->ad.resize(kAdNameOffset + image_name.size());
		std::copy(header.begin(), header.end(), ctx->ad.begin());
		std::copy(image_name.begin(), image_name.end(), ctx->ad.begin() + kAdNameOffset);
		return ctx;
	}

	// Points nonce and AD at the record about to be sealed or opened.
	Result<> position(RecordType type)
	{
		if (index > UINT32_MAX)
			return fail(EOVERFLOW, "more than 2^32 records in one image");
		store_le32(nonce.data() + kHeaderSaltSize, uint32_t(index));
		ad[kAdTypeOffset] = uint8_t(type);
		store_le64(ad.data() + kAdIndexOffset, index);
		return {};
	}
};

RecordSealer::RecordSealer(std::unique_ptr<RecordCtx> ctx) : ctx_(std::move(ctx)) {}
RecordSealer::RecordSealer(RecordSealer &&) noexcept = default;
RecordSealer &RecordSealer::operator=(RecordSealer &&) noexcept = default;
RecordSealer::~RecordSealer() = default;

Result<RecordSealer> RecordSealer::create(const Keyring &kr, std::string_view image_name)
{
	std::array<uint8_t, kSealHeaderSize> header{};
	store_le32(header.data(), kSealMagic);
	header[4] = kSealVersion;
	header[5] = uint8_t(kr.envelope().entry_alg);
	int ret = gnutls_rnd(GNUTLS_RND_NONCE, header.data() + kSaltOffset, kHeaderSaltSize);
	if (ret < 0)
		return fail_gnutls(ret, EIO, "{}: random seal salt", image_name);
	return RecordSealer(TRY(RecordCtx::make(kr, image_name, header)));
}

std::span<const uint8_t> RecordSealer::header() const { return ctx_->header; }

uint64_t RecordSealer::records() const { return ctx_->index; }

Result<> RecordSealer::seal(RecordType type, Bytes &buf)
{
	size_t n = buf.size();
	if (!type_known(type))
		return fail(EINVAL, "record {} has unknown type {}", ctx_->index, type_name(type));
	if (n > kMaxRecordLen - kRecordTagSize)
		return fail(EFBIG, "record {} of {} bytes is too large", ctx_->index, n);
	TRY(ctx_->position(type));
	buf.resize(n + kRecordTagSize);
	size_t out = buf.size();
	int ret = gnutls_aead_cipher_encrypt(ctx_->aead.get(), ctx_->nonce.data(), ctx_->nonce.size(),
					     ctx_->ad.data(), ctx_->ad.size(), kRecordTagSize, buf.data(), n,
					     buf.data(), &out);
	if (ret < 0 || out != n + kRecordTagSize) {
		gnutls_memset(buf.data(), 0, buf.size());
		buf.clear();
		return fail_gnutls(ret, EIO, "record {} (type {}): sealing", ctx_->index, type_name(type));
	}
	ctx_->index++;
	return {};
}

RecordOpener::RecordOpener(std::unique_ptr<RecordCtx> ctx) : ctx_(std::move(ctx)) {}
RecordOpener::RecordOpener(RecordOpener &&) noexcept = default;
RecordOpener &RecordOpener::operator=(RecordOpener &&) noexcept = default;
RecordOpener::~RecordOpener() = default;

Result<RecordOpener> RecordOpener::create(const Keyring &kr, std::string_view image_name,
					  std::span<const uint8_t> header)
{
	if (header.size() != kSealHeaderSize)
		return fail(EINVAL, "{}: seal header of {} bytes, not {}", image_name, header.size(), kSealHeaderSize);
	if (!is_seal_header(header))
		return fail(EBADMSG, "{}: no seal header (bad magic)", image_name);
	if (header[4] != kSealVersion)
		return fail(EBADMSG, "{}: seal version {} is not supported", image_name, header[4]);
	if (header[5] != uint8_t(kr.envelope().entry_alg))
		return fail(EBADMSG, "{}: sealed with algorithm {}, but cipher.img says {}", image_name, header[5],
			    uint32_t(kr.envelope().entry_alg));
	if (header[6] != 0 || header[7] != 0)
		return fail(EBADMSG, "{}: reserved bytes of the seal header are not zero", image_name);
	return RecordOpener(TRY(RecordCtx::make(kr, image_name, header.first<kSealHeaderSize>())));
}

uint64_t RecordOpener::records() const { return ctx_->index; }

Result<> RecordOpener::open(RecordType type, Bytes &buf)
{
	if (!type_known(type))
		return fail(EBADMSG, "record {} has unknown type {}", ctx_->index, type_name(type));
	if (buf.size() < kRecordTagSize)
		return fail(EBADMSG, "record {} (type {}) is shorter than its tag", ctx_->index, type_name(type));
	TRY(ctx_->position(type));
	size_t out = buf.size();
	int ret = gnutls_aead_cipher_decrypt(ctx_->aead.get(), ctx_->nonce.data(), ctx_->nonce.size(),
					     ctx_->ad.data(), ctx_->ad.size(), kRecordTagSize, buf.data(),
					     buf.size(), buf.data(), &out);
	if (ret < 0) {
		// Never hand out (or leave behind) plaintext that did not authenticate.
		gnutls_memset(buf.data(), 0, buf.size());
		buf.clear();
		if (ret == GNUTLS_E_DECRYPTION_FAILED)
			return fail(EBADMSG, "record {} (type {}) does not authenticate", ctx_->index,
				    type_name(type));
		return fail_gnutls(ret, EBADMSG, "record {} (type {})", ctx_->index, type_name(type));
	}
	buf.resize(out);
	ctx_->index++;
	return {};
}

bool is_seal_header(std::span<const uint8_t> first_bytes)
{
	if (first_bytes.size() < kSealHeaderSize)
		return false;
	uint32_t magic = 0;
	for (int i = 0; i < 4; i++)
		magic |= uint32_t(first_bytes[i]) << (8 * i);
	return magic == kSealMagic;
}

} // namespace criu::crypto
