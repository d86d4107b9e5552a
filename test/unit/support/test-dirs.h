// Test fixtures: temporary directories removed on scope exit, and a throwaway PKI made
// with contrib/criu-keygen.
#pragma once

#include <string>
#include <vector>

namespace criu::test {

class TempDir {
public:
	TempDir();
	~TempDir();
	TempDir(const TempDir &) = delete;
	TempDir &operator=(const TempDir &) = delete;
	const std::string &path() const { return path_; }
	std::string operator/(const std::string &name) const { return path_ + "/" + name; }

private:
	std::string path_;
};

// A key and self-signed certificate in a temporary directory. Made once per name and process.
struct Pki {
	std::string cert;
	std::string key;
};
const Pki &test_pki(const std::string &name = "a");

std::vector<uint8_t> read_bytes(const std::string &path);
void write_bytes(const std::string &path, const std::vector<uint8_t> &data);
// Runs a shell command; returns its exit status and stdout+stderr.
int run_command(const std::string &cmd, std::string *output = nullptr);
std::vector<std::string> list_dir(const std::string &path);

} // namespace criu::test
