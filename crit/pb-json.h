// protobuf-c messages <-> JSON, driven by the message descriptors (no generated code needed).
#pragma once

#include <protobuf-c/protobuf-c.h>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "image.h"

namespace criu::crit {

using Json = nlohmann::ordered_json;

// Field names as keys, enums by name, bytes as base64, 64-bit values as numbers.
Json message_to_json(const ProtobufCMessage &msg);

// Builds a message from JSON; unknown keys, wrong types and missing required fields are errors.
[[nodiscard]] Result<PbMsg> json_to_message(const ProtobufCMessageDescriptor &desc, const Json &j);

std::string base64_encode(std::span<const uint8_t> data);
[[nodiscard]] Result<Bytes> base64_decode(std::string_view text);

} // namespace criu::crit
