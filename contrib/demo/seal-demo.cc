// seal-demo: writes a checkpoint-shaped images directory holding a secret (in a core entry's
// comm, in a pipe buffer and in a memory page) and reads the secret back. Until the dump
// engine lands, `make demo` uses it to show the image layer sealing and opening images.
//
//   seal-demo write DIR SECRET [CERT...]   (no CERT: a plain directory)
//   seal-demo read DIR [KEY]
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core.pb-c.h"
#include "image-dir.h"
#include "pipe-data.pb-c.h"

using namespace criu;

namespace {

constexpr uint32_t kPid = 4242;

Result<> write_demo(const std::string &path, const std::string &secret, std::vector<std::string> certs)
{
	ImageDir dir = TRY(ImageDir::create(path, certs));

	ImageWriter core = TRY(dir.create_image(img::Kind::Core, kPid));
	CoreEntry ce = CORE_ENTRY__INIT;
	TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
	ce.mtype = CORE_ENTRY__MARCH__X86_64;
	ce.tc = &tc;
	tc.task_state = 1;
	tc.exit_code = 0;
	tc.personality = 0;
	tc.flags = 0;
	tc.blk_sigset = 0;
	std::string comm = secret.substr(0, 15);
	tc.comm = comm.data();
	TRY(core.write(ce.base));
	TRY(core.close());

	ImageWriter pipes = TRY(dir.create_image(img::Kind::PipesData));
	PipeDataEntry pd = PIPE_DATA_ENTRY__INIT;
	pd.pipe_id = 1;
	pd.bytes = uint32_t(secret.size());
	TRY(pipes.write(pd.base));
	TRY(pipes.write_raw({reinterpret_cast<const uint8_t *>(secret.data()), secret.size()}));
	TRY(pipes.close());

	PagesWriter pages = TRY(dir.create_pages(1));
	std::vector<uint8_t> mem(4 * kPageSize, 0);
	memcpy(&mem[2 * kPageSize + 64], secret.data(), secret.size());
	TRY(pages.write(mem));
	TRY(pages.close());
	printf("wrote %s (%s)\n", path.c_str(), dir.sealed() ? "sealed" : "plain");
	return {};
}

Result<> read_demo(const std::string &path, const std::string &key)
{
	ImageDir dir = TRY(ImageDir::open(path, key));
	ImageReader pipes = TRY(dir.open_image(img::Kind::PipesData));
	auto msg = TRY(pipes.read());
	if (!msg)
		return fail(EINVAL, "pipes-data.img is empty");
	std::string data(pb_cast<PipeDataEntry>(*msg)->bytes, '\0');
	TRY(pipes.read_raw({reinterpret_cast<uint8_t *>(data.data()), data.size()}));

	PagesReader pages = TRY(dir.open_pages(1));
	std::vector<uint8_t> mem(pages.pages() * kPageSize);
	TRY(pages.read(0, mem));
	std::string in_page(reinterpret_cast<const char *>(&mem[2 * kPageSize + 64]));
	printf("pipe buffer: %s\nmemory page: %s\n", data.c_str(), in_page.c_str());
	return {};
}

} // namespace

int main(int argc, char **argv)
{
	Result<> r = fail(EINVAL, "usage: seal-demo write DIR SECRET [CERT...] | read DIR [KEY]");
	if (argc >= 4 && !strcmp(argv[1], "write"))
		r = write_demo(argv[2], argv[3], std::vector<std::string>(argv + 4, argv + argc));
	else if (argc >= 3 && !strcmp(argv[1], "read"))
		r = read_demo(argv[2], argc > 3 ? argv[3] : "");
	if (!r) {
		fprintf(stderr, "seal-demo: %s\n", r.error().describe().c_str());
		return 1;
	}
	return 0;
}
