// Private to crypto/: the page cipher's two primitives written for x86-64 CPUs with VAES and
// VPCLMULQDQ (AMD Zen 3 and later, Intel Ice Lake and later), used where the CPU has them.
//
// GnuTLS's AES-NI code handles one 16-byte block per instruction and reaches about 4 GB/s for
// XTS and 5 GB/s for GMAC on this project's machines; with 256-bit VAES and VPCLMULQDQ two
// blocks go through each instruction. Restoring a sealed checkpoint decrypts every page while
// both cores are already busy faulting the memory in, so the page cipher's speed is the
// encrypted restore's overhead (see Documentation/encryption.md, "Speed").
//
// Both are the standard algorithms, bit for bit: XTS-AES-256 (IEEE 1619, whole 16-byte blocks)
// and AES-256-GMAC (NIST SP 800-38D, a 96-bit nonce, the data as associated data, a 16-byte
// tag). The tests check them against GnuTLS on random keys and data and against the published
// vectors. AES rounds are AES-NI instructions and GHASH is carry-less multiplication: no table
// lookups, so timing does not depend on keys or data.
#pragma once

#include <cstddef>
#include <cstdint>

#include <immintrin.h>

// On every function that uses the instructions: this code is built with the project's usual
// flags, and nothing of it runs unless have_vaes() said yes.
#define X86_TARGET __attribute__((target("aes,pclmul,avx2,vaes,vpclmulqdq")))

namespace criu::crypto::x86 {

// Whether the CPU (and the kernel, for the AVX registers) has AES-NI, PCLMULQDQ, AVX2, VAES and
// VPCLMULQDQ.
bool have_vaes();

// Round keys of AES-256, each stored twice (both 128-bit lanes of a 256-bit register).
struct alignas(32) AesRoundKeys {
	uint8_t k[15][32];
};

// XTS-AES-256 with a 64-byte key: key1 (data) || key2 (tweak). Wiped on destruction.
class XtsVaes {
public:
	explicit XtsVaes(const uint8_t key[64]);
	~XtsVaes();
	XtsVaes(const XtsVaes &) = delete;
	XtsVaes &operator=(const XtsVaes &) = delete;

	// One data unit of len bytes (a multiple of 16) from in to out (which may be the same).
	void encrypt(const uint8_t tweak[16], const uint8_t *in, uint8_t *out, size_t len) const;
	void decrypt(const uint8_t tweak[16], const uint8_t *in, uint8_t *out, size_t len) const;

private:
	friend class PagesVaes;
	AesRoundKeys enc1_, dec1_, enc2_;
};

// AES-256-GMAC with a 32-byte key. Wiped on destruction.
class GmacVpclmul {
public:
	explicit GmacVpclmul(const uint8_t key[32]);
	~GmacVpclmul();
	GmacVpclmul(const GmacVpclmul &) = delete;
	GmacVpclmul &operator=(const GmacVpclmul &) = delete;

	// The tag of len bytes of data (a multiple of 256: pages) under a 12-byte nonce.
	void tag(const uint8_t nonce[12], const uint8_t *data, size_t len, uint8_t out[16]) const;

private:
	friend class PagesVaes;
	X86_TARGET void finish(__m128i x, size_t len, const uint8_t nonce[12], uint8_t out[16]) const;

	AesRoundKeys enc_;
	alignas(32) uint8_t hpow_[8][32]; // (H^16, H^15), (H^14, H^13), ..., (H^2, H^1), byte-reflected
	alignas(32) uint8_t hsum_[8][32]; // for each of those, its two 64-bit halves XORed, twice
	alignas(16) uint8_t h_[16];       // H, byte-reflected
};

// XTS-AES-256 and the AES-256-GMAC tag of the ciphertext in one pass over each page, the nonce
// being the tweak's first 12 bytes (as PageCipher makes them): the AES units encrypt while the
// carry-less multiplier hashes. len is a multiple of 256 (pages); in and out may be the same.
// The tweaks (the tweak key's encryption of the page's tweak, and its multiples) are wiped
// where this code keeps them; copies the compiler spills to the stack are not.
class PagesVaes {
public:
	PagesVaes(const uint8_t xts_key[64], const uint8_t tag_key[32]);

	// Encrypts in into out and tags out.
	void seal(const uint8_t tweak[16], const uint8_t *in, uint8_t *out, size_t len, uint8_t tag[16]) const;
	// Tags in and decrypts it into out: out is only to be used if tag is the expected one.
	void open(const uint8_t tweak[16], const uint8_t *in, uint8_t *out, size_t len, uint8_t tag[16]) const;
	// The two apart (to verify before decrypting in place).
	const XtsVaes &xts() const { return xts_; }
	const GmacVpclmul &gmac() const { return gmac_; }

private:
	XtsVaes xts_;
	GmacVpclmul gmac_;
};

} // namespace criu::crypto::x86
