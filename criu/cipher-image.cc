#include "cipher-image.h"

#include <vector>

#include "cipher.pb-c.h"
#include "image-dir.h"
#include "image.h"

namespace criu {

namespace {

ProtobufCBinaryData bin(const crypto::Bytes &b) { return {b.size(), const_cast<uint8_t *>(b.data())}; }

crypto::Bytes bytes(const ProtobufCBinaryData &b) { return crypto::Bytes(b.data, b.data + b.len); }

} // namespace

Result<> write_cipher_image(BorrowedFd dir, const crypto::Envelope &env)
{
	std::vector<CipherKeyEntry> keys(env.keys.size());
	std::vector<CipherKeyEntry *> key_ptrs;
	for (size_t i = 0; i < env.keys.size(); i++) {
		cipher_key_entry__init(&keys[i]);
		keys[i].key_id = bin(env.keys[i].key_id);
		keys[i].wrapped = bin(env.keys[i].wrapped);
		key_ptrs.push_back(&keys[i]);
	}
	CipherEntry e = CIPHER_ENTRY__INIT;
	e.version = env.version;
	e.entry_alg = uint32_t(env.entry_alg);
	e.salt = bin(env.salt);
	e.n_keys = key_ptrs.size();
	e.keys = key_ptrs.data();
	e.key_check = bin(env.key_check);

	auto w = TRY(create_image_at(dir, img::info(img::Kind::Cipher), kCipherImage, make_plain_framing()));
	TRY(w.write(e.base));
	return w.close();
}

Result<std::optional<crypto::Envelope>> read_cipher_image(BorrowedFd dir)
{
	auto r = open_image_at(dir, img::info(img::Kind::Cipher), kCipherImage, make_plain_framing());
	if (!r) {
		if (r.error().code() == ENOENT)
			return std::nullopt;
		return std::unexpected(r.error().context("corrupt key envelope"));
	}
	auto msg = TRY_CTX(r->read(), "corrupt key envelope");
	if (!msg)
		return fail(EBADMSG, "{}: no key envelope in it (corrupt)", kCipherImage);
	if (TRY_CTX(r->read(), "corrupt key envelope"))
		return fail(EBADMSG, "{}: more than one key envelope (corrupt)", kCipherImage);

	const CipherEntry *e = pb_cast<CipherEntry>(*msg);
	crypto::Envelope env;
	env.version = e->version;
	env.entry_alg = crypto::EntryAlg(e->entry_alg);
	env.salt = bytes(e->salt);
	for (size_t i = 0; i < e->n_keys; i++)
		env.keys.push_back({bytes(e->keys[i]->key_id), bytes(e->keys[i]->wrapped)});
	env.key_check = bytes(e->key_check);
	return env;
}

} // namespace criu
