// The checkpoint's keys: a random master secret, wrapped (RSA PKCS#1 v1.5) for each certificate,
// and the working keys derived from it with HKDF-SHA256.
#include "crypto/keyring.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <new>

#include "common/xio.h"
#include "gnutls-util.h"
#include "keys.h"

namespace criu::crypto {

namespace {

// HKDF-Expand info strings: one per key, so the keys are independent of each other.
constexpr std::string_view kInfoEntry = "CRIUsec v1 entry key";
constexpr std::string_view kInfoXts = "CRIUsec v1 page XTS key";
constexpr std::string_view kInfoPageTag = "CRIUsec v1 page tag key";
constexpr std::string_view kInfoCheck = "CRIUsec v1 envelope check key";
// Leads the data key_check is computed over, so that MAC can never be confused with another.
constexpr std::string_view kCheckLabel = "CRIUsec cipher.img key_check";

constexpr size_t kMaxPemSize = 1 << 20;

size_t mapping_size(size_t size)
{
	size_t page = size_t(sysconf(_SC_PAGESIZE));
	return (size + page - 1) / page * page;
}

// Wipes a buffer on every way out of a scope.
class WipeOnExit {
public:
	WipeOnExit(void *p, size_t n) : p_(p), n_(n) {}
	WipeOnExit(const WipeOnExit &) = delete;
	WipeOnExit &operator=(const WipeOnExit &) = delete;
	~WipeOnExit() { gnutls_memset(p_, 0, n_); }

private:
	void *p_;
	size_t n_;
};

// Reads a small PEM file into a buffer sized once, so no stray copies of a private key are
// left behind by reallocation; the caller wipes it.
Result<Bytes> read_pem(const std::string &path, std::string_view what)
{
	UniqueFd fd = TRY_CTX(xio::open(path, O_RDONLY | O_CLOEXEC), "{}", what);
	struct stat st;
	if (fstat(fd.get(), &st) < 0)
		return fail_errno("{} {}: stat", what, path);
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || size_t(st.st_size) > kMaxPemSize)
		return fail(EINVAL, "{} {}: not a PEM file", what, path);
	Bytes buf(size_t(st.st_size));
	size_t n = TRY_CTX(xio::read_full(fd.borrow(), std::as_writable_bytes(std::span(buf))), "{} {}", what, path);
	buf.resize(n);
	return buf;
}

Result<std::unique_ptr<DerivedKeys>> derive(std::span<const uint8_t, kMasterSize> master, const Bytes &salt)
{
	uint8_t prk[32];
	WipeOnExit wipe_prk(prk, sizeof(prk));
	gnutls_datum_t ikm = datum(master.data(), master.size());
	gnutls_datum_t s = datum(salt.data(), salt.size());
	int ret = gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &ikm, &s, prk);
	if (ret < 0)
		return fail_gnutls(ret, EINVAL, "HKDF-SHA256 extract");

	auto keys = std::unique_ptr<DerivedKeys>(new DerivedKeys);
	gnutls_datum_t key = datum(prk, sizeof(prk));
	auto expand = [&](std::string_view info, std::span<uint8_t> out) -> Result<> {
		gnutls_datum_t i = datum(info.data(), info.size());
		int r = gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &key, &i, out.data(), out.size());
		if (r < 0)
			return fail_gnutls(r, EINVAL, "HKDF-SHA256 expand ({})", info);
		return {};
	};
	TRY(expand(kInfoEntry, keys->entry));
	TRY(expand(kInfoXts, keys->xts));
	TRY(expand(kInfoPageTag, keys->page_tag));
	TRY(expand(kInfoCheck, keys->check));
	// XTS with key1 == key2 is weak (IEEE 1619 forbids it); with HKDF output this means a bug.
	if (gnutls_memcmp(keys->xts.data(), keys->xts.data() + kXtsKeySize / 2, kXtsKeySize / 2) == 0)
		return fail(EINVAL, "derived XTS key has two equal halves");
	return keys;
}

// The canonical, length-prefixed encoding of every envelope field key_check covers.
Bytes check_input(const Envelope &env)
{
	Bytes out(kCheckLabel.begin(), kCheckLabel.end());
	auto put32 = [&](uint32_t v) {
		uint8_t b[4];
		store_le32(b, v);
		out.insert(out.end(), b, b + 4);
	};
	auto put = [&](const Bytes &b) {
		put32(uint32_t(b.size()));
		out.insert(out.end(), b.begin(), b.end());
	};
	put32(env.version);
	put32(uint32_t(env.entry_alg));
	put(env.salt);
	put32(uint32_t(env.keys.size()));
	for (const auto &k : env.keys) {
		put(k.key_id);
		put(k.wrapped);
	}
	return out;
}

Result<Bytes> compute_check(const DerivedKeys &keys, const Envelope &env)
{
	Bytes in = check_input(env);
	Bytes mac(32);
	int ret = gnutls_hmac_fast(GNUTLS_MAC_SHA256, keys.check.data(), keys.check.size(), in.data(), in.size(),
				   mac.data());
	if (ret < 0)
		return fail_gnutls(ret, EINVAL, "HMAC-SHA256 of the key envelope");
	return mac;
}

bool alg_known(EntryAlg alg)
{
	return alg == EntryAlg::Chacha20Poly1305 || alg == EntryAlg::Aes256Gcm;
}

Result<> require_rsa(int pk, std::string_view what, const std::string &path)
{
	if (pk == GNUTLS_PK_RSA)
		return {};
	const char *name = pk < 0 ? nullptr : gnutls_pk_get_name(gnutls_pk_algorithm_t(pk));
	return fail(EINVAL, "{} {}: its key is {}, but only RSA keys can wrap the checkpoint key", what, path,
		    name ? name : "not RSA");
}

Result<WrappedKey> wrap_for(const std::string &cert_path, std::span<const uint8_t, kMasterSize> master)
{
	Bytes pem = TRY(read_pem(cert_path, "certificate"));
	ScopedX509Crt crt;
	int ret = gnutls_x509_crt_init(crt.out());
	if (ret < 0)
		return fail_gnutls(ret, ENOMEM, "certificate {}", cert_path);
	gnutls_datum_t d = datum(pem.data(), pem.size());
	ret = gnutls_x509_crt_import(crt.get(), &d, GNUTLS_X509_FMT_PEM);
	if (ret < 0)
		return fail_gnutls(ret, EINVAL, "certificate {}: not a PEM X.509 certificate", cert_path);
	TRY(require_rsa(gnutls_x509_crt_get_pk_algorithm(crt.get(), nullptr), "certificate", cert_path));

	WrappedKey wk;
	wk.key_id.resize(32);
	size_t id_size = wk.key_id.size();
	ret = gnutls_x509_crt_get_key_id(crt.get(), GNUTLS_KEYID_USE_SHA256, wk.key_id.data(), &id_size);
	if (ret < 0)
		return fail_gnutls(ret, EINVAL, "certificate {}: key id", cert_path);
	wk.key_id.resize(id_size);

	ScopedPubkey pub;
	if ((ret = gnutls_pubkey_init(pub.out())) < 0 || (ret = gnutls_pubkey_import_x509(pub.get(), crt.get(), 0)) < 0)
		return fail_gnutls(ret, EINVAL, "certificate {}: public key", cert_path);
	GnutlsDatum ct;
	gnutls_datum_t m = datum(master.data(), master.size());
	ret = gnutls_pubkey_encrypt_data(pub.get(), 0, &m, ct.out());
	if (ret < 0)
		return fail_gnutls(ret, EINVAL, "certificate {}: wrapping the checkpoint key", cert_path);
	wk.wrapped.assign(ct.data(), ct.data() + ct.size());
	return wk;
}

Result<> validate(const Envelope &env)
{
	if (env.version != 1)
		return fail(EBADMSG, "cipher.img version {} is not supported (only version 1 is)", env.version);
	if (!alg_known(env.entry_alg))
		return fail(EBADMSG, "cipher.img names unknown entry algorithm {}", uint32_t(env.entry_alg));
	if (env.salt.size() != kSaltSize)
		return fail(EBADMSG, "cipher.img has a salt of {} bytes, not {}", env.salt.size(), kSaltSize);
	if (env.key_check.size() != 32)
		return fail(EBADMSG, "cipher.img has a key check of {} bytes, not 32", env.key_check.size());
	if (env.keys.empty())
		return fail(EBADMSG, "cipher.img holds no wrapped key");
	return {};
}

// Loads an RSA private key and returns it with the SHA-256 id of its public key, the same id
// gnutls_x509_crt_get_key_id gives for its certificate.
Result<std::pair<ScopedPrivkey, Bytes>> load_private_key(const std::string &key_path)
{
	Bytes pem = TRY(read_pem(key_path, "private key"));
	WipeOnExit wipe_pem(pem.data(), pem.size());
	ScopedPrivkey key;
	int ret = gnutls_privkey_init(key.out());
	if (ret < 0)
		return fail_gnutls(ret, ENOMEM, "private key {}", key_path);
	gnutls_datum_t d = datum(pem.data(), pem.size());
	ret = gnutls_privkey_import_x509_raw(key.get(), &d, GNUTLS_X509_FMT_PEM, nullptr, 0);
	if (ret < 0)
		return fail_gnutls(ret, EINVAL, "private key {}: not a PEM private key", key_path);
	TRY(require_rsa(gnutls_privkey_get_pk_algorithm(key.get(), nullptr), "private key", key_path));

	ScopedPubkey pub;
	Bytes id(32);
	size_t id_size = id.size();
	if ((ret = gnutls_pubkey_init(pub.out())) < 0 ||
	    (ret = gnutls_pubkey_import_privkey(pub.get(), key.get(), 0, 0)) < 0 ||
	    (ret = gnutls_pubkey_get_key_id(pub.get(), GNUTLS_KEYID_USE_SHA256, id.data(), &id_size)) < 0)
		return fail_gnutls(ret, EINVAL, "private key {}: public key id", key_path);
	id.resize(id_size);
	return std::pair(std::move(key), std::move(id));
}

} // namespace

void *DerivedKeys::operator new(size_t size)
{
	size_t len = mapping_size(size);
	void *p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		throw std::bad_alloc();
	// Best effort: keys stay out of swap (RLIMIT_MEMLOCK permitting) and out of core dumps.
	(void)madvise(p, len, MADV_DONTDUMP);
	(void)mlock(p, len);
	return p;
}

void DerivedKeys::operator delete(void *p, size_t size)
{
	size_t len = mapping_size(size);
	(void)munlock(p, len);
	munmap(p, len);
}

DerivedKeys::~DerivedKeys()
{
	gnutls_memset(entry.data(), 0, entry.size());
	gnutls_memset(xts.data(), 0, xts.size());
	gnutls_memset(page_tag.data(), 0, page_tag.size());
	gnutls_memset(check.data(), 0, check.size());
}

Keyring::Keyring(Envelope env, std::shared_ptr<const DerivedKeys> keys) : env_(std::move(env)), keys_(std::move(keys))
{
}

Keyring::Keyring(Keyring &&) noexcept = default;
Keyring &Keyring::operator=(Keyring &&) noexcept = default;
Keyring::~Keyring() = default;

Result<Keyring> Keyring::create(std::span<const std::string> cert_paths, EntryAlg alg)
{
	if (cert_paths.empty())
		return fail(EINVAL, "no certificate to wrap the checkpoint key for");
	if (!alg_known(alg))
		return fail(EINVAL, "unknown entry algorithm {}", uint32_t(alg));

	Envelope env;
	env.version = 1;
	env.entry_alg = alg;
	env.salt.resize(kSaltSize);
	int ret = gnutls_rnd(GNUTLS_RND_RANDOM, env.salt.data(), env.salt.size());
	if (ret < 0)
		return fail_gnutls(ret, EIO, "random salt");

	std::array<uint8_t, kMasterSize> master;
	WipeOnExit wipe_master(master.data(), master.size()); // on error paths; wiped below otherwise
	ret = gnutls_rnd(GNUTLS_RND_KEY, master.data(), master.size());
	if (ret < 0)
		return fail_gnutls(ret, EIO, "random master key");
	for (const auto &path : cert_paths)
		env.keys.push_back(TRY(wrap_for(path, master)));
	std::shared_ptr<const DerivedKeys> keys = TRY(derive(master, env.salt));
	gnutls_memset(master.data(), 0, master.size());

	env.key_check = TRY(compute_check(*keys, env));
	return Keyring(std::move(env), std::move(keys));
}

Result<Keyring> Keyring::open(const Envelope &env, const std::string &key_path)
{
	TRY(validate(env));
	auto [key, id] = TRY(load_private_key(key_path));
	auto wk = std::find_if(env.keys.begin(), env.keys.end(), [&](const WrappedKey &k) { return k.key_id == id; });
	if (wk == env.keys.end())
		return fail(ENOKEY, "no key in cipher.img is wrapped for {}", key_path);

	std::shared_ptr<const DerivedKeys> keys;
	{
		GnutlsDatum master; // wiped when this block ends, right after derivation
		gnutls_datum_t ct = datum(wk->wrapped.data(), wk->wrapped.size());
		int ret = gnutls_privkey_decrypt_data(key.get(), 0, &ct, master.out());
		if (ret < 0)
			return fail_gnutls(ret, EBADMSG, "can't unwrap the key in cipher.img with {}", key_path);
		if (master.size() != kMasterSize)
			return fail(EBADMSG, "can't unwrap the key in cipher.img with {}: {} bytes instead of {}",
				    key_path, master.size(), kMasterSize);
		keys = TRY(derive(std::span<const uint8_t, kMasterSize>(master.data(), kMasterSize), env.salt));
	}

	Bytes check = TRY(compute_check(*keys, env));
	if (gnutls_memcmp(check.data(), env.key_check.data(), check.size()) != 0)
		return fail(EBADMSG, "cipher.img does not verify (corrupt or tampered)");
	return Keyring(env, std::move(keys));
}

EntryAlg fastest_entry_alg()
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul"))
		return EntryAlg::Aes256Gcm;
	return EntryAlg::Chacha20Poly1305;
}

} // namespace criu::crypto
