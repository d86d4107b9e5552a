// Private to crypto/: RAII for GnuTLS handles and buffers, GnuTLS errors as Results, and the
// little-endian stores the on-disk formats use.
#pragma once

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <cerrno>
#include <cstdint>

#include "common/result.h"
#include "common/scoped-handle.h"

namespace criu::crypto {

template <typename T, void (*Deinit)(T)> struct GnutlsTraits {
	static T invalid() { return nullptr; }
	static void close(T h) { Deinit(h); }
};

using ScopedX509Crt = ScopedHandle<gnutls_x509_crt_t, GnutlsTraits<gnutls_x509_crt_t, gnutls_x509_crt_deinit>>;
using ScopedPubkey = ScopedHandle<gnutls_pubkey_t, GnutlsTraits<gnutls_pubkey_t, gnutls_pubkey_deinit>>;
using ScopedPrivkey = ScopedHandle<gnutls_privkey_t, GnutlsTraits<gnutls_privkey_t, gnutls_privkey_deinit>>;
using ScopedCipher = ScopedHandle<gnutls_cipher_hd_t, GnutlsTraits<gnutls_cipher_hd_t, gnutls_cipher_deinit>>;
using ScopedAead =
	ScopedHandle<gnutls_aead_cipher_hd_t, GnutlsTraits<gnutls_aead_cipher_hd_t, gnutls_aead_cipher_deinit>>;

// A buffer GnuTLS allocated for us (gnutls_free); wiped before it is freed, since it may hold
// key material.
class GnutlsDatum {
public:
	GnutlsDatum() = default;
	GnutlsDatum(const GnutlsDatum &) = delete;
	GnutlsDatum &operator=(const GnutlsDatum &) = delete;
	~GnutlsDatum()
	{
		if (d_.data) {
			gnutls_memset(d_.data, 0, d_.size);
			gnutls_free(d_.data);
		}
	}
	gnutls_datum_t *out() { return &d_; }
	const uint8_t *data() const { return d_.data; }
	size_t size() const { return d_.size; }

private:
	gnutls_datum_t d_ = {nullptr, 0};
};

// A GnuTLS error code as an Error: "<what>: <GnuTLS's message>".
template <typename... Args>
[[nodiscard]] std::unexpected<Error> fail_gnutls(int ret, int code, fmt::format_string<Args...> f, Args &&...args)
{
	return std::unexpected(Error(code, fmt::format("{}: {}", fmt::format(f, std::forward<Args>(args)...),
						       gnutls_strerror(ret))));
}

inline gnutls_datum_t datum(const void *p, size_t n)
{
	return {static_cast<unsigned char *>(const_cast<void *>(p)), static_cast<unsigned int>(n)};
}

inline void store_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = uint8_t(v >> (8 * i));
}

inline void store_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = uint8_t(v >> (8 * i));
}

} // namespace criu::crypto
