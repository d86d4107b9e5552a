#include "test-dirs.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <stdexcept>

namespace criu::test {

TempDir::TempDir()
{
	char tmpl[] = "/tmp/criu-test-XXXXXX";
	if (!mkdtemp(tmpl))
		throw std::runtime_error("mkdtemp failed");
	path_ = tmpl;
}

TempDir::~TempDir()
{
	if (getenv("CRIU_TEST_KEEP"))
		fprintf(stderr, "kept %s\n", path_.c_str());
	else
		run_command("rm -rf '" + path_ + "'");
}

const Pki &test_pki(const std::string &name)
{
	static TempDir root;
	static std::map<std::string, Pki> made;
	auto it = made.find(name);
	if (it != made.end())
		return it->second;
	std::string dir = root / name;
	std::string out;
	int rc = run_command(std::string(CRIU_KEYGEN) + " --bits 2048 -n test-" + name + " -d " + dir, &out);
	if (rc != 0)
		throw std::runtime_error("criu-keygen failed: " + out);
	return made[name] = Pki{dir + "/cert.pem", dir + "/private/key.pem"};
}

std::vector<uint8_t> read_bytes(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	if (!f)
		throw std::runtime_error("can't read " + path);
	return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

void write_bytes(const std::string &path, const std::vector<uint8_t> &data)
{
	std::ofstream f(path, std::ios::binary | std::ios::trunc);
	f.write(reinterpret_cast<const char *>(data.data()), std::streamsize(data.size()));
	if (!f)
		throw std::runtime_error("can't write " + path);
}

int run_command(const std::string &cmd, std::string *output)
{
	std::string full = cmd + " 2>&1";
	FILE *p = popen(full.c_str(), "r");
	if (!p)
		return -1;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		if (output)
			output->append(buf, n);
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

std::vector<std::string> list_dir(const std::string &path)
{
	std::vector<std::string> names;
	std::unique_ptr<DIR, int (*)(DIR *)> d(opendir(path.c_str()), closedir);
	if (!d)
		return names;
	while (struct dirent *e = readdir(d.get()))
		if (e->d_name[0] != '.')
			names.push_back(e->d_name);
	std::sort(names.begin(), names.end());
	return names;
}

} // namespace criu::test
