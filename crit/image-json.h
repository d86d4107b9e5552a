// Whole images <-> JSON: {"magic": "CORE", "entries": [...]}, with the raw payloads some
// kinds carry after an entry as an "extra" base64 string in that entry, as CRIU's crit does.
#pragma once

#include <string>

#include "common/result.h"
#include "image.h"
#include "pb-json.h"

namespace criu::crit {

[[nodiscard]] Result<Json> decode_image(ImageReader &r);
// Number of entries (crit info).
[[nodiscard]] Result<size_t> count_entries(ImageReader &r);
// Writes the image described by j into dir/name, plain (sealed images need a whole directory).
[[nodiscard]] Result<> encode_image(const Json &j, BorrowedFd dir, const std::string &name);

} // namespace criu::crit
