// crit: decode, encode and show CRIU images, sealed ones too given the private key.
#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "common/xio.h"
#include "config.h"
#include "image-dir.h"
#include "image-json.h"

using namespace criu;

namespace {

struct Args {
	std::string cmd;
	std::string in, out;
	std::string key;
	bool pretty = false;
};

void usage(FILE *f)
{
	fprintf(f, "Usage: crit decode -i IMG [-o FILE] [--pretty] [--tls-key KEY]\n"
		   "       crit encode -i JSON -o IMG\n"
		   "       crit show IMG [--tls-key KEY]\n"
		   "       crit info IMG [--tls-key KEY]\n"
		   "Sealed images (cipher.img beside them) are opened with the private key given by\n"
		   "--tls-key, by default " CRIU_PKI_DIR "/criu/private/key.pem.\n");
}

std::string default_key()
{
	std::string k = CRIU_PKI_DIR "/criu/private/key.pem";
	return access(k.c_str(), R_OK) == 0 ? k : std::string();
}

std::pair<std::string, std::string> split_path(const std::string &p)
{
	auto slash = p.rfind('/');
	if (slash == std::string::npos)
		return {".", p};
	return {slash == 0 ? "/" : p.substr(0, slash), p.substr(slash + 1)};
}

Result<> write_out(const std::string &out, const std::string &text)
{
	if (out.empty() || out == "-")
		return xio::write_full(BorrowedFd(STDOUT_FILENO), xio::as_bytes(text.data(), text.size()));
	UniqueFd fd = TRY(xio::open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600));
	return xio::write_full(fd.borrow(), xio::as_bytes(text.data(), text.size()));
}

Result<ImageReader> open_for_reading(const Args &a, std::optional<ImageDir> &dir)
{
	if (a.in.empty() || a.in == "-")
		return fail(EINVAL, "an image file is needed (-i IMG)");
	auto [d, name] = split_path(a.in);
	if (name == kCipherImage) { // the key envelope holds nothing secret in the clear
		UniqueFd dfd = TRY(xio::open(d, O_RDONLY | O_DIRECTORY));
		return open_image_at(dfd.borrow(), img::info(img::Kind::Cipher), name, make_plain_framing());
	}
	dir.emplace(TRY(ImageDir::open(d, a.key.empty() ? default_key() : a.key)));
	return dir->open_image_file(name);
}

Result<> run(const Args &a)
{
	std::optional<ImageDir> dir;
	if (a.cmd == "decode" || a.cmd == "show") {
		ImageReader r = TRY(open_for_reading(a, dir));
		crit::Json j = TRY(crit::decode_image(r));
		return write_out(a.out, j.dump(a.pretty ? 4 : -1) + "\n");
	}
	if (a.cmd == "info") {
		ImageReader r = TRY(open_for_reading(a, dir));
		crit::Json j = crit::Json::object();
		j["magic"] = r.kind().name;
		j["sealed"] = r.sealed();
		j["count"] = TRY(crit::count_entries(r));
		return write_out(a.out, j.dump(4) + "\n");
	}
	if (a.cmd == "encode") {
		if (a.out.empty())
			return fail(EINVAL, "encode needs -o IMG");
		std::string text;
		if (a.in.empty() || a.in == "-") {
			char buf[65536];
			for (;;) {
				size_t n = TRY(xio::read_full(BorrowedFd(STDIN_FILENO), xio::as_writable_bytes(buf, sizeof(buf))));
				text.append(buf, n);
				if (n < sizeof(buf))
					break;
			}
		} else {
			text = TRY(xio::read_file(a.in));
		}
		crit::Json j = crit::Json::parse(text, nullptr, false);
		if (j.is_discarded())
			return fail(EINVAL, "{}: not valid JSON", a.in.empty() ? "stdin" : a.in);
		auto [d, name] = split_path(a.out);
		UniqueFd dfd = TRY(xio::open(d, O_RDONLY | O_DIRECTORY));
		return crit::encode_image(j, dfd.borrow(), name);
	}
	usage(stderr);
	return fail(EINVAL, "unknown command '{}'", a.cmd);
}

} // namespace

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	Args a;
	a.cmd = argv[1];
	if (a.cmd == "-h" || a.cmd == "--help") {
		usage(stdout);
		return 0;
	}
	static const struct option longopts[] = {
		{"in", required_argument, nullptr, 'i'},   {"out", required_argument, nullptr, 'o'},
		{"pretty", no_argument, nullptr, 'p'},     {"tls-key", required_argument, nullptr, 'k'},
		{"help", no_argument, nullptr, 'h'},       {nullptr, 0, nullptr, 0},
	};
	optind = 2;
	for (int c; (c = getopt_long(argc, argv, "i:o:ph", longopts, nullptr)) != -1;) {
		switch (c) {
		case 'i': a.in = optarg; break;
		case 'o': a.out = optarg; break;
		case 'p': a.pretty = true; break;
		case 'k': a.key = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if ((a.cmd == "show" || a.cmd == "info") && optind < argc && a.in.empty())
		a.in = argv[optind++];
	if (a.cmd == "show")
		a.pretty = true;
	auto r = run(a);
	if (!r) {
		fprintf(stderr, "crit: %s\n", r.error().describe().c_str());
		return 1;
	}
	return 0;
}
