// The per-checkpoint keys and their envelope (the content of cipher.img).
//
// A checkpoint has one random 32-byte master secret. It is wrapped (RSA, PKCS#1 v1.5 through
// GnuTLS) for every certificate given at dump time; restore unwraps it with a matching private
// key. All working keys are derived from it with HKDF-SHA256 (salt from the envelope), so the
// master secret itself is never used directly and is wiped right after derivation.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace criu::crypto {

using Bytes = std::vector<uint8_t>;

// Algorithm of the protobuf entry / raw stream records. Values are stored in cipher.img.
enum class EntryAlg : uint32_t {
	Chacha20Poly1305 = 1,
	Aes256Gcm = 2,
};

// The record algorithm to use on this CPU: AES-256-GCM where AES and carry-less multiply
// instructions make it fast, ChaCha20-Poly1305 elsewhere.
EntryAlg fastest_entry_alg();

struct WrappedKey {
	Bytes key_id;  // SHA-256 key id of the certificate's public key
	Bytes wrapped; // the master secret encrypted to that public key
};

// Everything cipher.img holds, independent of how it is serialised.
struct Envelope {
	uint32_t version = 1;
	EntryAlg entry_alg = EntryAlg::Chacha20Poly1305;
	Bytes salt;                   // 32 random bytes, HKDF salt
	std::vector<WrappedKey> keys; // one per certificate
	Bytes key_check;              // HMAC-SHA256 over all fields above, keyed by a derived key
};

struct DerivedKeys; // defined in crypto/, wiped on destruction

class Keyring {
public:
	// Generates a fresh master secret and wraps it for every certificate (PEM files).
	[[nodiscard]] static Result<Keyring> create(std::span<const std::string> cert_paths,
						    EntryAlg alg = EntryAlg::Chacha20Poly1305);
	// Unwraps the master secret with the private key (PEM file) and verifies key_check.
	// Errors say whether no wrapped key matches this private key, unwrapping failed, or the
	// envelope does not verify (corrupt cipher.img).
	[[nodiscard]] static Result<Keyring> open(const Envelope &env, const std::string &key_path);

	const Envelope &envelope() const { return env_; }
	const DerivedKeys &keys() const { return *keys_; }

	Keyring(Keyring &&) noexcept;
	Keyring &operator=(Keyring &&) noexcept;
	~Keyring();

private:
	Keyring(Envelope env, std::shared_ptr<const DerivedKeys> keys);
	Envelope env_;
	std::shared_ptr<const DerivedKeys> keys_;
};

} // namespace criu::crypto
