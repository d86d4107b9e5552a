// XTS-AES-256 and AES-256-GMAC with VAES and VPCLMULQDQ (see aes-x86.h).
//
// Every function that uses the instructions carries X86_TARGET (aes-x86.h).
#include "aes-x86.h"

#include <immintrin.h>
#include <string.h>


namespace criu::crypto::x86 {

bool have_vaes()
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("avx2") &&
	       __builtin_cpu_supports("vaes") && __builtin_cpu_supports("vpclmulqdq");
}

namespace {

constexpr int kRounds = 14; // AES-256

X86_TARGET inline __m128i key128(const AesRoundKeys &k, int r)
{
	return _mm_load_si128(reinterpret_cast<const __m128i *>(k.k[r]));
}

X86_TARGET inline __m256i key256(const AesRoundKeys &k, int r)
{
	return _mm256_load_si256(reinterpret_cast<const __m256i *>(k.k[r]));
}

X86_TARGET inline void store_key(AesRoundKeys &k, int r, __m128i v)
{
	_mm_store_si128(reinterpret_cast<__m128i *>(k.k[r]), v);
	_mm_store_si128(reinterpret_cast<__m128i *>(k.k[r] + 16), v);
}

// One step of the AES-256 key schedule: the previous key of the same parity, with the running
// XOR of its words, XORed with the (broadcast) output of AESKEYGENASSIST.
X86_TARGET inline __m128i schedule_step(__m128i k, __m128i assist)
{
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	return _mm_xor_si128(k, assist);
}

// Even round keys take RotWord(SubWord(w)) ^ rcon of the previous key's last word, odd ones
// SubWord(w). AESKEYGENASSIST needs rcon as an immediate, hence the macros.
#define EVEN_KEY(i, rcon) \
	rk[i] = schedule_step(rk[(i) - 2], _mm_shuffle_epi32(_mm_aeskeygenassist_si128(rk[(i) - 1], rcon), 0xff))
#define ODD_KEY(i) rk[i] = schedule_step(rk[(i) - 2], _mm_shuffle_epi32(_mm_aeskeygenassist_si128(rk[(i) - 1], 0), 0xaa))

// AES-256 encryption round keys and, if dec is given, those of the equivalent inverse cipher.
X86_TARGET void expand_key(const uint8_t key[32], AesRoundKeys &enc, AesRoundKeys *dec)
{
	__m128i rk[kRounds + 1];
	rk[0] = _mm_loadu_si128(reinterpret_cast<const __m128i *>(key));
	rk[1] = _mm_loadu_si128(reinterpret_cast<const __m128i *>(key + 16));
	EVEN_KEY(2, 0x01);
	ODD_KEY(3);
	EVEN_KEY(4, 0x02);
	ODD_KEY(5);
	EVEN_KEY(6, 0x04);
	ODD_KEY(7);
	EVEN_KEY(8, 0x08);
	ODD_KEY(9);
	EVEN_KEY(10, 0x10);
	ODD_KEY(11);
	EVEN_KEY(12, 0x20);
	ODD_KEY(13);
	EVEN_KEY(14, 0x40);
	for (int r = 0; r <= kRounds; r++)
		store_key(enc, r, rk[r]);
	if (dec) {
		store_key(*dec, 0, rk[kRounds]);
		for (int r = 1; r < kRounds; r++)
			store_key(*dec, r, _mm_aesimc_si128(rk[kRounds - r]));
		store_key(*dec, kRounds, rk[0]);
	}
	explicit_bzero(rk, sizeof(rk));
}

#undef EVEN_KEY
#undef ODD_KEY

X86_TARGET inline __m128i encrypt_block(const AesRoundKeys &k, __m128i x)
{
	x = _mm_xor_si128(x, key128(k, 0));
	for (int r = 1; r < kRounds; r++)
		x = _mm_aesenc_si128(x, key128(k, r));
	return _mm_aesenclast_si128(x, key128(k, kRounds));
}

X86_TARGET inline __m128i decrypt_block(const AesRoundKeys &k, __m128i x)
{
	x = _mm_xor_si128(x, key128(k, 0));
	for (int r = 1; r < kRounds; r++)
		x = _mm_aesdec_si128(x, key128(k, r));
	return _mm_aesdeclast_si128(x, key128(k, kRounds));
}

// N registers (2N blocks) through all rounds, interleaved so the AES units never wait.
template <bool Enc, int N> X86_TARGET inline void crypt_wide(const AesRoundKeys &k, __m256i (&x)[N])
{
	__m256i rk = key256(k, 0);
#pragma GCC unroll 8
	for (int i = 0; i < N; i++)
		x[i] = _mm256_xor_si256(x[i], rk);
	for (int r = 1; r < kRounds; r++) {
		rk = key256(k, r);
#pragma GCC unroll 8
		for (int i = 0; i < N; i++)
			x[i] = Enc ? _mm256_aesenc_epi128(x[i], rk) : _mm256_aesdec_epi128(x[i], rk);
	}
	rk = key256(k, kRounds);
#pragma GCC unroll 8
	for (int i = 0; i < N; i++)
		x[i] = Enc ? _mm256_aesenclast_epi128(x[i], rk) : _mm256_aesdeclast_epi128(x[i], rk);
}

// The tweak times x in GF(2^128) as XTS defines it (little-endian, x^128 = x^7 + x^2 + x + 1).
inline void times_x(uint64_t &lo, uint64_t &hi)
{
	uint64_t carry = (0 - (hi >> 63)) & 0x87;
	hi = hi << 1 | lo >> 63;
	lo = lo << 1 ^ carry;
}

// Each 128-bit lane times x^16: a two-byte shift, and the 16 bits shifted out folded back in
// times x^7 + x^2 + x + 1 (shifts and XORs: the carry-less multiplier is GHASH's).
X86_TARGET inline __m256i times_x16(__m256i t)
{
	__m256i out = _mm256_bsrli_epi128(t, 14); // < 2^16, in each lane's low 64 bits
	__m256i fold = _mm256_xor_si256(_mm256_xor_si256(out, _mm256_slli_epi64(out, 1)),
					_mm256_xor_si256(_mm256_slli_epi64(out, 2), _mm256_slli_epi64(out, 7)));
	return _mm256_xor_si256(_mm256_bslli_epi128(t, 2), fold);
}

constexpr int kWide = 8; // registers per step: 16 blocks, 256 bytes

// The tweaks of the first 16 blocks of a data unit, two per register.
X86_TARGET inline void first_tweaks(const AesRoundKeys &tweak_key, const uint8_t tweak[16], __m256i (&tw)[kWide])
{
	__m128i t0 = encrypt_block(tweak_key, _mm_loadu_si128(reinterpret_cast<const __m128i *>(tweak)));
	uint64_t lo = uint64_t(_mm_cvtsi128_si64(t0)), hi = uint64_t(_mm_extract_epi64(t0, 1));
	for (int i = 0; i < kWide; i++) {
		uint64_t lo1 = lo, hi1 = hi;
		times_x(lo1, hi1);
		tw[i] = _mm256_set_epi64x(int64_t(hi1), int64_t(lo1), int64_t(hi), int64_t(lo));
		lo = lo1;
		hi = hi1;
		times_x(lo, hi);
	}
}

// 16 blocks from in to out; the tweaks move on to the next 16.
template <bool Enc>
X86_TARGET inline void xts16(const AesRoundKeys &data_key, __m256i (&tw)[kWide], const uint8_t *in, uint8_t *out)
{
	__m256i x[kWide];
#pragma GCC unroll 8
	for (int i = 0; i < kWide; i++)
		x[i] = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(in + 32 * i)), tw[i]);
	crypt_wide<Enc>(data_key, x);
#pragma GCC unroll 8
	for (int i = 0; i < kWide; i++) {
		_mm256_storeu_si256(reinterpret_cast<__m256i *>(out + 32 * i), _mm256_xor_si256(x[i], tw[i]));
		tw[i] = times_x16(tw[i]);
	}
}

template <bool Enc>
X86_TARGET void xts(const AesRoundKeys &data_key, const AesRoundKeys &tweak_key, const uint8_t tweak[16],
		    const uint8_t *in, uint8_t *out, size_t len)
{
	__m256i tw[kWide];
	first_tweaks(tweak_key, tweak, tw);
	size_t blocks = len / 16, b = 0;
	for (; b + 2 * kWide <= blocks; b += 2 * kWide)
		xts16<Enc>(data_key, tw, in + 16 * b, out + 16 * b);
	for (int i = 0; b + 2 <= blocks; b += 2, i++) { // what is left: pairs, then maybe one block
		__m256i x[1] = {_mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(in + 16 * b)), tw[i])};
		crypt_wide<Enc>(data_key, x);
		_mm256_storeu_si256(reinterpret_cast<__m256i *>(out + 16 * b), _mm256_xor_si256(x[0], tw[i]));
	}
	if (b < blocks) { // its tweak is the low lane of the register after the last pair's
		__m128i t = _mm256_castsi256_si128(tw[(b % 16) / 2]);
		__m128i x = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i *>(in + 16 * b)), t);
		x = Enc ? encrypt_block(data_key, x) : decrypt_block(data_key, x);
		_mm_storeu_si128(reinterpret_cast<__m128i *>(out + 16 * b), _mm_xor_si128(x, t));
	}
	explicit_bzero(tw, sizeof(tw));
}

} // namespace

X86_TARGET XtsVaes::XtsVaes(const uint8_t key[64])
{
	expand_key(key, enc1_, &dec1_);
	expand_key(key + 32, enc2_, nullptr);
}

XtsVaes::~XtsVaes()
{
	explicit_bzero(&enc1_, sizeof(enc1_));
	explicit_bzero(&dec1_, sizeof(dec1_));
	explicit_bzero(&enc2_, sizeof(enc2_));
}

void XtsVaes::encrypt(const uint8_t tweak[16], const uint8_t *in, uint8_t *out, size_t len) const
{
	xts<true>(enc1_, enc2_, tweak, in, out, len);
}

void XtsVaes::decrypt(const uint8_t tweak[16], const uint8_t *in, uint8_t *out, size_t len) const
{
	xts<false>(dec1_, enc2_, tweak, in, out, len);
}

namespace {

// GHASH works on byte-reversed blocks: then GF(2^128) multiplication is a carry-less product,
// a one-bit shift and a reduction by x^128 + x^7 + x^2 + x + 1 (the method of Gueron and
// Kounavis, "Intel Carry-Less Multiplication Instruction and its Usage for Computing the GCM Mode").
X86_TARGET inline __m128i reverse_bytes(__m128i x)
{
	return _mm_shuffle_epi8(x, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

X86_TARGET inline __m256i reverse_bytes(__m256i x)
{
	const __m256i mask = _mm256_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5,
					     6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	return _mm256_shuffle_epi8(x, mask);
}

// The 256-bit product [hi:lo] of byte-reversed field elements, reduced to one element.
X86_TARGET inline __m128i reduce(__m128i hi, __m128i lo)
{
	// Shift [hi:lo] left by one bit.
	__m128i lo_out = _mm_srli_epi32(lo, 31), hi_out = _mm_srli_epi32(hi, 31);
	lo = _mm_or_si128(_mm_slli_epi32(lo, 1), _mm_slli_si128(lo_out, 4));
	hi = _mm_or_si128(_mm_or_si128(_mm_slli_epi32(hi, 1), _mm_slli_si128(hi_out, 4)), _mm_srli_si128(lo_out, 12));
	// Fold lo into hi: first the x^63, x^62, x^57 multiples ...
	__m128i a = _mm_xor_si128(_mm_xor_si128(_mm_slli_epi32(lo, 31), _mm_slli_epi32(lo, 30)), _mm_slli_epi32(lo, 25));
	__m128i carried = _mm_srli_si128(a, 4);
	lo = _mm_xor_si128(lo, _mm_slli_si128(a, 12));
	// ... then the shifts right by 1, 2 and 7.
	__m128i b = _mm_xor_si128(_mm_xor_si128(_mm_srli_epi32(lo, 1), _mm_srli_epi32(lo, 2)), _mm_srli_epi32(lo, 7));
	b = _mm_xor_si128(b, carried);
	return _mm_xor_si128(hi, _mm_xor_si128(lo, b));
}

X86_TARGET inline __m128i multiply(__m128i a, __m128i b)
{
	__m128i lo = _mm_clmulepi64_si128(a, b, 0x00), hi = _mm_clmulepi64_si128(a, b, 0x11);
	__m128i mid = _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x10), _mm_clmulepi64_si128(a, b, 0x01));
	return reduce(_mm_xor_si128(hi, _mm_srli_si128(mid, 8)), _mm_xor_si128(lo, _mm_slli_si128(mid, 8)));
}

// GHASH of 256 bytes at p, folded into x: x = (x + d1) H^16 + d2 H^15 + ... + d16 H, eight
// 256-bit registers of two blocks each, all products summed unreduced, one reduction. Only the
// first register waits for the previous reduction. Karatsuba: three carry-less products per
// block (lo, hi, and (d_lo + d_hi)(h_lo + h_hi), whose sum with lo and hi is the middle term),
// the multiplier being what bounds GHASH here.
// One register of the sum: d (two blocks, the first also
// carrying x when i is 0) times (H^(16-2i), H^(15-2i)), added to lo, mid and hi unreduced.
X86_TARGET inline void ghash_step(int i, const uint8_t *p, __m128i x, const uint8_t (&hpow)[8][32],
				  const uint8_t (&hsum)[8][32], __m256i &lo, __m256i &mid, __m256i &hi)
{
	__m256i d = reverse_bytes(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p + 32 * i)));
	if (i == 0)
		d = _mm256_xor_si256(d, _mm256_set_m128i(_mm_setzero_si128(), x));
	__m256i h = _mm256_load_si256(reinterpret_cast<const __m256i *>(hpow[i]));
	__m256i k = _mm256_load_si256(reinterpret_cast<const __m256i *>(hsum[i]));
	lo = _mm256_xor_si256(lo, _mm256_clmulepi64_epi128(d, h, 0x00));
	hi = _mm256_xor_si256(hi, _mm256_clmulepi64_epi128(d, h, 0x11));
	__m256i dsum = _mm256_xor_si256(d, _mm256_shuffle_epi32(d, 0x4e));
	mid = _mm256_xor_si256(mid, _mm256_clmulepi64_epi128(dsum, k, 0x00));
}

X86_TARGET inline __m128i ghash_reduce(__m256i lo, __m256i mid, __m256i hi)
{
	mid = _mm256_xor_si256(mid, _mm256_xor_si256(lo, hi));
	lo = _mm256_xor_si256(lo, _mm256_bslli_epi128(mid, 8));
	hi = _mm256_xor_si256(hi, _mm256_bsrli_epi128(mid, 8));
	__m128i lo1 = _mm_xor_si128(_mm256_castsi256_si128(lo), _mm256_extracti128_si256(lo, 1));
	__m128i hi1 = _mm_xor_si128(_mm256_castsi256_si128(hi), _mm256_extracti128_si256(hi, 1));
	return reduce(hi1, lo1);
}

X86_TARGET inline __m128i ghash16(__m128i x, const uint8_t *p, const uint8_t (&hpow)[8][32],
				  const uint8_t (&hsum)[8][32])
{
	__m256i lo = _mm256_setzero_si256(), mid = lo, hi = lo;
#pragma GCC unroll 8
	for (int i = 7; i >= 0; i--)
		ghash_step(i, p, x, hpow, hsum, lo, mid, hi);
	return ghash_reduce(lo, mid, hi);
}

X86_TARGET inline __m128i load_block(const uint8_t *p)
{
	return reverse_bytes(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
}

} // namespace

X86_TARGET GmacVpclmul::GmacVpclmul(const uint8_t key[32])
{
	expand_key(key, enc_, nullptr);
	__m128i h = reverse_bytes(encrypt_block(enc_, _mm_setzero_si128()));
	_mm_store_si128(reinterpret_cast<__m128i *>(h_), h);
	__m128i pow[17];
	pow[1] = h;
	for (int i = 2; i <= 16; i++)
		pow[i] = multiply(pow[i - 1], h);
	for (int i = 0; i < 8; i++) { // register i holds (H^(16-2i), H^(15-2i))
		_mm_store_si128(reinterpret_cast<__m128i *>(hpow_[i]), pow[16 - 2 * i]);
		_mm_store_si128(reinterpret_cast<__m128i *>(hpow_[i] + 16), pow[15 - 2 * i]);
		for (int lane = 0; lane < 2; lane++) { // h_lo ^ h_hi, in both halves of the lane
			__m128i h = pow[16 - 2 * i - lane];
			__m128i sum = _mm_xor_si128(h, _mm_shuffle_epi32(h, 0x4e));
			_mm_store_si128(reinterpret_cast<__m128i *>(hsum_[i] + 16 * lane), sum);
		}
	}
	explicit_bzero(pow, sizeof(pow));
}

GmacVpclmul::~GmacVpclmul()
{
	explicit_bzero(&enc_, sizeof(enc_));
	explicit_bzero(hpow_, sizeof(hpow_));
	explicit_bzero(hsum_, sizeof(hsum_));
	explicit_bzero(h_, sizeof(h_));
}

X86_TARGET void GmacVpclmul::tag(const uint8_t nonce[12], const uint8_t *data, size_t len, uint8_t out[16]) const
{
	if (len % 256) // pages only: a shorter tail would go unhashed
		__builtin_trap();
	__m128i x = _mm_setzero_si128();
	for (size_t i = 0; i + 256 <= len; i += 256)
		x = ghash16(x, data + i, hpow_, hsum_);
	finish(x, len, nonce, out);
}

// The lengths block (the data's length in bits, big-endian, then the empty ciphertext's)
// hashed last; the tag is GHASH xor E(K, J0), J0 = nonce || 0x00000001.
X86_TARGET void GmacVpclmul::finish(__m128i x, size_t len, const uint8_t nonce[12], uint8_t out[16]) const
{
	__m128i h = _mm_load_si128(reinterpret_cast<const __m128i *>(h_));
	uint8_t block[16];
	uint64_t bits = uint64_t(len) * 8;
	for (int b = 0; b < 16; b++)
		block[b] = b < 8 ? uint8_t(bits >> (56 - 8 * b)) : 0;
	x = multiply(_mm_xor_si128(x, load_block(block)), h);
	memcpy(block, nonce, 12);
	block[12] = block[13] = block[14] = 0;
	block[15] = 1;
	__m128i ek = encrypt_block(enc_, _mm_loadu_si128(reinterpret_cast<const __m128i *>(block)));
	_mm_storeu_si128(reinterpret_cast<__m128i *>(out), _mm_xor_si128(reverse_bytes(x), ek));
	explicit_bzero(block, sizeof(block));
}

namespace {

// XTS of 16 blocks from in to out, and GHASH of the 256 bytes at hashed, folded into x. The
// GHASH steps sit between the AES rounds, in program order: the core's schedulers then hold
// both kinds at once and its AES units and carry-less multiplier work side by side (grouped,
// the rounds' long chains fill the schedulers and the multiplier waits).
template <bool Enc>
X86_TARGET inline __m128i xts_ghash16(const AesRoundKeys &k, __m256i (&tw)[kWide], const uint8_t *in, uint8_t *out,
				      const uint8_t *hashed, __m128i x, const uint8_t (&hpow)[8][32],
				      const uint8_t (&hsum)[8][32])
{
	__m256i v[kWide], lo = _mm256_setzero_si256(), mid = lo, hi = lo;
	__m256i rk = key256(k, 0);
#pragma GCC unroll 8
	for (int i = 0; i < kWide; i++)
		v[i] = _mm256_xor_si256(_mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(in + 32 * i)),
							 tw[i]),
					rk);
#pragma GCC unroll 13
	for (int r = 1; r < kRounds; r++) {
		rk = key256(k, r);
#pragma GCC unroll 8
		for (int i = 0; i < kWide; i++)
			v[i] = Enc ? _mm256_aesenc_epi128(v[i], rk) : _mm256_aesdec_epi128(v[i], rk);
		if (r <= kWide) {
			ghash_step(kWide - r, hashed, x, hpow, hsum, lo, mid, hi);
			// Summed here, in registers: left free, the compiler keeps every product
			// apart on the stack to add them up at the end.
			asm("" : "+x"(lo), "+x"(mid), "+x"(hi));
		}
	}
	rk = key256(k, kRounds);
#pragma GCC unroll 8
	for (int i = 0; i < kWide; i++) {
		v[i] = Enc ? _mm256_aesenclast_epi128(v[i], rk) : _mm256_aesdeclast_epi128(v[i], rk);
		_mm256_storeu_si256(reinterpret_cast<__m256i *>(out + 32 * i), _mm256_xor_si256(v[i], tw[i]));
		tw[i] = times_x16(tw[i]);
	}
	return ghash_reduce(lo, mid, hi);
}

} // namespace

PagesVaes::PagesVaes(const uint8_t xts_key[64], const uint8_t tag_key[32]) : xts_(xts_key), gmac_(tag_key) {}

// Sealing hashes the 256 bytes it encrypted the step before (in L1 still): the ciphertext of
// this step is not there yet.
X86_TARGET void PagesVaes::seal(const uint8_t tweak[16], const uint8_t *in, uint8_t *out, size_t len,
				uint8_t tag[16]) const
{
	if (len % 256 || len == 0)
		__builtin_trap();
	__m256i tw[kWide];
	first_tweaks(xts_.enc2_, tweak, tw);
	xts16<true>(xts_.enc1_, tw, in, out);
	__m128i x = _mm_setzero_si128();
	for (size_t i = 256; i < len; i += 256)
		x = xts_ghash16<true>(xts_.enc1_, tw, in + i, out + i, out + i - 256, x, gmac_.hpow_, gmac_.hsum_);
	x = ghash16(x, out + len - 256, gmac_.hpow_, gmac_.hsum_);
	explicit_bzero(tw, sizeof(tw));
	gmac_.finish(x, len, tweak, tag);
}

X86_TARGET void PagesVaes::open(const uint8_t tweak[16], const uint8_t *in, uint8_t *out, size_t len,
				uint8_t tag[16]) const
{
	if (len % 256 || len == 0)
		__builtin_trap();
	__m256i tw[kWide];
	first_tweaks(xts_.enc2_, tweak, tw);
	__m128i x = _mm_setzero_si128();
	for (size_t i = 0; i < len; i += 256)
		x = xts_ghash16<false>(xts_.dec1_, tw, in + i, out + i, in + i, x, gmac_.hpow_, gmac_.hsum_);
	explicit_bzero(tw, sizeof(tw));
	gmac_.finish(x, len, tweak, tag);
}

} // namespace criu::crypto::x86
