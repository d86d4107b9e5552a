// Sample entries for any image kind, made from the message descriptors: every field set,
// repeated fields with two elements, values varied by a seed.
#pragma once

#include <protobuf-c/protobuf-c.h>

#include "image.h"
#include "pb-json.h"

namespace criu::test {

// With only_criu317, fields that CRIU 3.17 (Debian's crit) does not know are left out.
crit::Json sample_json(const ProtobufCMessageDescriptor &desc, uint32_t seed, bool only_criu317 = false,
		       int depth = 0);
PbMsg sample_message(const ProtobufCMessageDescriptor &desc, uint32_t seed, bool only_criu317 = false);
Bytes packed(const ProtobufCMessage &m);

// Writes a few sample entries of kind k (and the raw payloads the kind carries) to w;
// returns the packed entries, in order, and the raw payloads concatenated.
struct Written {
	std::vector<Bytes> entries;
	Bytes raw;
};
Written write_samples(ImageWriter &w, uint32_t seed, bool only_criu317 = false);
// Reads the image back and checks it equals what was written (REQUIREs inside).
void check_samples(ImageReader &r, const Written &want);

} // namespace criu::test
