#include "pki.h"

#include <fstream>
#include <map>
#include <stdexcept>

#include "test-dirs.h"

namespace criu::crypto::test {

namespace {

KeyPair generate_pair(const std::string &name, const std::string &keytype)
{
	static criu::test::TempDir root;
	std::string key = root / (name + "-key.pem");
	std::string cert = root / (name + "-cert.pem");
	std::string tmpl = root / (name + ".tmpl");
	std::ofstream(tmpl) << "cn = \"criu test " << name << "\"\nexpiration_days = 2\nencryption_key\nsigning_key\n";
	std::string out;
	std::string cmd = "(certtool --generate-privkey " + keytype + " --outfile '" + key + "' && certtool " +
			  "--generate-self-signed --load-privkey '" + key + "' --template '" + tmpl +
			  "' --outfile '" + cert + "')";
	if (criu::test::run_command(cmd, &out) != 0)
		throw std::runtime_error("certtool failed: " + out);
	return KeyPair{cert, key};
}

} // namespace

const KeyPair &rsa_pair(const std::string &name)
{
	static std::map<std::string, KeyPair> made;
	auto it = made.find(name);
	if (it == made.end())
		it = made.emplace(name, generate_pair(name, "--rsa --bits 2048")).first;
	return it->second;
}

const KeyPair &ecdsa_pair()
{
	static KeyPair pair = generate_pair("ecdsa", "--ecdsa");
	return pair;
}

Keyring create_keyring(const std::vector<std::string> &names, EntryAlg alg)
{
	std::vector<std::string> certs;
	for (const auto &n : names)
		certs.push_back(rsa_pair(n).cert);
	auto kr = Keyring::create(certs, alg);
	if (!kr)
		throw std::runtime_error("Keyring::create: " + kr.error().describe());
	return std::move(*kr);
}

Keyring open_keyring(const Envelope &env, const std::string &name)
{
	auto kr = Keyring::open(env, rsa_pair(name).key);
	if (!kr)
		throw std::runtime_error("Keyring::open: " + kr.error().describe());
	return std::move(*kr);
}

std::vector<uint8_t> from_hex(const std::string &hex)
{
	if (hex.size() % 2)
		throw std::invalid_argument("odd hex string");
	std::vector<uint8_t> out(hex.size() / 2);
	for (size_t i = 0; i < out.size(); i++)
		out[i] = uint8_t(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
	return out;
}

} // namespace criu::crypto::test
