// Private to crypto/: the working keys of one checkpoint, derived from its master secret.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace criu::crypto {

constexpr size_t kMasterSize = 32;
constexpr size_t kSaltSize = 32;
constexpr size_t kEntryKeySize = 32;
constexpr size_t kXtsKeySize = 64;
constexpr size_t kPageTagKeySize = 32;
constexpr size_t kCheckKeySize = 32;

// Each instance lives on its own page(s): mlock'ed where RLIMIT_MEMLOCK allows, excluded from
// core dumps, and wiped when destroyed. Always allocate with new (Keyring does).
struct DerivedKeys {
	std::array<uint8_t, kEntryKeySize> entry;      // record AEAD (ChaCha20-Poly1305 / AES-256-GCM)
	std::array<uint8_t, kXtsKeySize> xts;          // page encryption, AES-256-XTS (key1 || key2)
	std::array<uint8_t, kPageTagKeySize> page_tag; // page tags, AES-256-GMAC
	std::array<uint8_t, kCheckKeySize> check;      // HMAC-SHA256 key of the envelope's key_check

	DerivedKeys() = default;
	DerivedKeys(const DerivedKeys &) = delete;
	DerivedKeys &operator=(const DerivedKeys &) = delete;
	~DerivedKeys();

	static void *operator new(size_t size);
	static void operator delete(void *p, size_t size);
};

} // namespace criu::crypto
