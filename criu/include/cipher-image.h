// cipher.img: the key envelope, stored as one plain cipher_entry (it holds no secret in the
// clear: the key is wrapped, and the entry is authenticated by its key_check).
#pragma once

#include <optional>
#include <string>

#include "common/result.h"
#include "common/unique-fd.h"
#include "crypto/keyring.h"

namespace criu {

[[nodiscard]] Result<> write_cipher_image(BorrowedFd dir, const crypto::Envelope &env);
// nullopt when the directory has no cipher.img (a plain checkpoint).
[[nodiscard]] Result<std::optional<crypto::Envelope>> read_cipher_image(BorrowedFd dir);

} // namespace criu
