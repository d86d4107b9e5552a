// criu: the command line entry point.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/xio.h"
#include "config.h"
#include "cr-check.h"
#include "cr-dump.h"
#include "cr-restore.h"
#include "options.h"

using namespace criu;

namespace {

void usage(FILE *f)
{
	fprintf(f, "Usage:\n"
		   "  criu dump|pre-dump -t PID [<options>]\n"
		   "  criu restore [<options>]\n"
		   "  criu check [--feature FEAT]\n"
		   "  criu page-server\n"
		   "\n"
		   "Common options:\n"
		   "  -D|--images-dir DIR   directory for image files\n"
		   "  -W|--work-dir DIR     directory for logs and pidfiles (default: the images dir)\n"
		   "  -o|--log-file FILE    log file name (relative to the work dir)\n"
		   "  -v[NUM]               verbosity 0..4\n"
		   "  --config FILE         read options from FILE; --no-default-config skips the defaults\n"
		   "Encryption:\n"
		   "  -e|--encrypt          seal every image (certificate: --tls-cert, default %s/criu/cert.pem)\n"
		   "  --tls-key KEY         private key to open sealed images (default %s/criu/private/key.pem)\n",
		CRIU_PKI_DIR, CRIU_PKI_DIR);
}

// Opens the log file the way CRIU does: a relative name lands in the work directory.
Result<UniqueFd> open_log(const Options &o)
{
	if (o.log_file.empty() || o.log_file == "-")
		return UniqueFd(dup(STDERR_FILENO));
	std::string path = o.log_file;
	if (path[0] != '/')
		path = (o.work_dir.empty() ? o.images_dir : o.work_dir) + "/" + path;
	return xio::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
}

// compel sleeps until SIGCHLD while it waits for a tracee to stop (see pt::wait_stop); the
// signal is only kept for it while blocked. Blocked here, before any thread starts, so every
// thread inherits it; children that exec unblock it again.
void block_sigchld()
{
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, nullptr);
}

} // namespace

int main(int argc, char **argv)
{
	block_sigchld();
	std::vector<std::string> args(argv, argv + argc);
	for (const std::string &a : args) {
		if (a == "-V" || a == "--version") {
			printf("Version: %s (CRIUsec)\n", CRIU_VERSION);
			return 0;
		}
		if (a == "-h" || a == "--help") {
			usage(stdout);
			return 0;
		}
	}
	auto opts = parse_options(args, ParseEnv::from_process());
	if (!opts) {
		fprintf(stderr, "criu: %s\n", opts.error().describe().c_str());
		usage(stderr);
		return 1;
	}
	auto logfd = open_log(*opts);
	if (!logfd) {
		fprintf(stderr, "criu: can't open log file: %s\n", logfd.error().describe().c_str());
		return 1;
	}
	log::init(logfd->release(), opts->verbosity, opts->verbosity >= 3);
	if (opts->command == "check")
		return cr_check(opts->features);
	if (opts->command == "dump")
		return cr_dump(*opts);
	if (opts->command == "restore")
		return cr_restore(*opts);
	pr_err("{}: not implemented yet in this build", opts->command);
	return 1;
}
