// Throwaway keys and self-signed certificates for the crypto tests, made with certtool at test
// time in a temporary directory (removed at exit). Made once per name and process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/keyring.h"

namespace criu::crypto::test {

struct KeyPair {
	std::string cert; // PEM X.509 certificate
	std::string key;  // PEM private key
};

// An RSA-2048 key and its certificate.
const KeyPair &rsa_pair(const std::string &name);
// An ECDSA (P-256) key and its certificate: valid X.509, but it cannot wrap a key.
const KeyPair &ecdsa_pair();

// Keyring::create for the named RSA pairs' certificates; throws (failing the test) on error.
Keyring create_keyring(const std::vector<std::string> &names, EntryAlg alg = EntryAlg::Chacha20Poly1305);
// Keyring::open with the named RSA pair's private key; throws on error.
Keyring open_keyring(const Envelope &env, const std::string &name);

std::vector<uint8_t> from_hex(const std::string &hex);

} // namespace criu::crypto::test
