#include "options.h"

#include <getopt.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "common/xio.h"
#include "config.h"

namespace criu {

namespace {

enum LongOnly : int {
	OPT_PIDFILE = 1000,
	OPT_TIMEOUT,
	OPT_PRE_DUMP_MODE,
	OPT_TCP_ESTABLISHED,
	OPT_EXT_UNIX_SK,
	OPT_FILE_LOCKS,
	OPT_ACTION_SCRIPT,
	OPT_FEATURE,
	OPT_TLS,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_CACERT,
	OPT_ADDRESS,
	OPT_PORT,
	OPT_PAGE_SERVER,
	OPT_RESTORE_SIBLING,
	OPT_CONFIG,
	OPT_NO_DEFAULT_CONFIG,
	OPT_VERBOSITY,
};

const struct option kLongOpts[] = {
	{"tree", required_argument, nullptr, 't'},
	{"images-dir", required_argument, nullptr, 'D'},
	{"work-dir", required_argument, nullptr, 'W'},
	{"log-file", required_argument, nullptr, 'o'},
	{"verbosity", optional_argument, nullptr, OPT_VERBOSITY},
	{"leave-running", no_argument, nullptr, 'R'},
	{"shell-job", no_argument, nullptr, 'j'},
	{"restore-detached", no_argument, nullptr, 'd'},
	{"restore-sibling", no_argument, nullptr, OPT_RESTORE_SIBLING},
	{"pidfile", required_argument, nullptr, OPT_PIDFILE},
	{"timeout", required_argument, nullptr, OPT_TIMEOUT},
	{"pre-dump-mode", required_argument, nullptr, OPT_PRE_DUMP_MODE},
	{"tcp-established", no_argument, nullptr, OPT_TCP_ESTABLISHED},
	{"ext-unix-sk", no_argument, nullptr, OPT_EXT_UNIX_SK},
	{"file-locks", no_argument, nullptr, OPT_FILE_LOCKS},
	{"action-script", required_argument, nullptr, OPT_ACTION_SCRIPT},
	{"feature", required_argument, nullptr, OPT_FEATURE},
	{"encrypt", no_argument, nullptr, 'e'},
	{"tls", no_argument, nullptr, OPT_TLS},
	{"tls-cert", required_argument, nullptr, OPT_TLS_CERT},
	{"tls-key", required_argument, nullptr, OPT_TLS_KEY},
	{"tls-cacert", required_argument, nullptr, OPT_TLS_CACERT},
	{"address", required_argument, nullptr, OPT_ADDRESS},
	{"port", required_argument, nullptr, OPT_PORT},
	{"page-server", no_argument, nullptr, OPT_PAGE_SERVER},
	{"config", required_argument, nullptr, OPT_CONFIG},
	{"no-default-config", no_argument, nullptr, OPT_NO_DEFAULT_CONFIG},
	{nullptr, 0, nullptr, 0},
};

const char kShortOpts[] = "t:D:W:o:v::Rjde";

Result<long> parse_number(const char *what, const char *s, long lo, long hi)
{
	char *end = nullptr;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || !end || *end || end == s || v < lo || v > hi)
		return fail(EINVAL, "bad {} '{}'", what, s);
	return v;
}

// Applies one option to o. Returns false for options that only steer parsing.
Result<> apply(Options &o, int c, const char *arg)
{
	switch (c) {
	case 't': o.tree = pid_t(TRY(parse_number("pid", arg, 1, 4194304))); break;
	case 'D': o.images_dir = arg; break;
	case 'W': o.work_dir = arg; break;
	case 'o': o.log_file = arg; break;
	case 'v':
		// -v alone raises the level by one; -vN / -v N sets it (CRIU accepts -vvv too)
		if (!arg)
			o.verbosity++;
		else if (arg[strspn(arg, "v")] == '\0')
			o.verbosity += int(strlen(arg)) + 1;
		else
			o.verbosity = int(TRY(parse_number("verbosity", arg, 0, 4)));
		break;
	case OPT_VERBOSITY:
		if (arg)
			o.verbosity = int(TRY(parse_number("verbosity", arg, 0, 4)));
		else
			o.verbosity++;
		break;
	case 'R': o.leave_running = true; break;
	case 'j': o.shell_job = true; break;
	case 'd': o.restore_detached = true; break;
	case 'e': o.encrypt = true; break;
	case OPT_RESTORE_SIBLING: o.restore_sibling = true; break;
	case OPT_PIDFILE: o.pidfile = arg; break;
	case OPT_TIMEOUT: o.timeout = unsigned(TRY(parse_number("timeout", arg, 0, 1 << 30))); break;
	case OPT_PRE_DUMP_MODE:
		if (!strcmp(arg, "splice"))
			o.pre_dump_mode = PreDumpMode::Splice;
		else if (!strcmp(arg, "read"))
			o.pre_dump_mode = PreDumpMode::Read;
		else
			return fail(EINVAL, "unable to parse value of --pre-dump-mode: '{}' (splice or read)", arg);
		break;
	case OPT_TCP_ESTABLISHED: o.tcp_established = true; break;
	case OPT_EXT_UNIX_SK: o.ext_unix_sk = true; break;
	case OPT_FILE_LOCKS: o.file_locks = true; break;
	case OPT_ACTION_SCRIPT: o.action_scripts.push_back(arg); break;
	case OPT_FEATURE: o.features.push_back(arg); break;
	case OPT_TLS: o.tls = true; break;
	case OPT_TLS_CERT: o.tls_certs.push_back(arg); break;
	case OPT_TLS_KEY: o.tls_key = arg; break;
	case OPT_TLS_CACERT: o.tls_cacert = arg; break;
	case OPT_ADDRESS: o.address = arg; break;
	case OPT_PORT: o.port = uint16_t(TRY(parse_number("port", arg, 0, 65535))); break;
	case OPT_PAGE_SERVER: o.page_server = true; break;
	default: return fail(EINVAL, "unknown option");
	}
	return {};
}

// Runs getopt over words (words[0] is a program name). Collects positional words.
Result<std::vector<std::string>> parse_words(Options &o, const std::vector<std::string> &words,
					      std::vector<std::string> *configs, bool *no_default)
{
	std::vector<char *> argv;
	std::vector<std::string> copy = words;
	for (auto &w : copy)
		argv.push_back(w.data());
	argv.push_back(nullptr);
	std::vector<std::string> positional;
	optind = 0; // full re-initialisation of getopt
	opterr = 0;
	int argc = int(copy.size());
	for (;;) {
		int c = getopt_long(argc, argv.data(), kShortOpts, kLongOpts, nullptr);
		if (c == -1)
			break;
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];
			return fail(EINVAL, "unrecognized or incomplete option '{}'", bad ? bad : "?");
		}
		if (c == OPT_CONFIG) {
			if (configs)
				configs->push_back(optarg);
			continue;
		}
		if (c == OPT_NO_DEFAULT_CONFIG) {
			if (no_default)
				*no_default = true;
			continue;
		}
		TRY(apply(o, c, optarg));
	}
	for (int i = optind; i < argc; i++)
		positional.push_back(argv[i]);
	return positional;
}

std::string strip(std::string s)
{
	size_t a = s.find_first_not_of(" \t\r");
	size_t b = s.find_last_not_of(" \t\r");
	return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

} // namespace

Result<std::vector<std::string>> read_config_file(const std::string &path)
{
	std::string text = TRY_CTX(xio::read_file(path), "config file");
	std::vector<std::string> words;
	size_t lineno = 0, pos = 0;
	while (pos <= text.size()) {
		size_t nl = text.find('\n', pos);
		std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
		pos = nl == std::string::npos ? text.size() + 1 : nl + 1;
		lineno++;
		if (auto hash = line.find('#'); hash != std::string::npos)
			line.resize(hash);
		line = strip(line);
		if (line.empty())
			continue;
		size_t sp = line.find_first_of(" \t");
		std::string name = line.substr(0, sp);
		if (name.starts_with("-"))
			return fail(EINVAL, "{}:{}: option names are written without dashes: '{}'", path, lineno, name);
		if (sp == std::string::npos) {
			words.push_back("--" + name);
			continue;
		}
		// "--name=value" suits options with required and optional arguments alike
		std::string value = strip(line.substr(sp));
		if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
			value = value.substr(1, value.size() - 2);
		words.push_back("--" + name + "=" + value);
	}
	return words;
}

ParseEnv ParseEnv::from_process()
{
	ParseEnv e;
	if (const char *home = getenv("HOME"))
		e.user_config = std::string(home) + "/.criu/default.conf";
	if (const char *c = getenv("CRIU_CONFIG_FILE"))
		e.env_config = c;
	return e;
}

Result<Options> parse_options(const std::vector<std::string> &argv, const ParseEnv &env)
{
	// First pass over the command line only to learn --config and --no-default-config.
	Options scratch;
	std::vector<std::string> cli_configs;
	bool no_default = false;
	TRY(parse_words(scratch, argv, &cli_configs, &no_default));

	std::vector<std::string> files;
	if (!no_default) {
		for (const std::string &f : {env.global_config, env.user_config})
			if (!f.empty() && access(f.c_str(), R_OK) == 0)
				files.push_back(f);
	}
	if (!env.env_config.empty())
		files.push_back(env.env_config);
	files.insert(files.end(), cli_configs.begin(), cli_configs.end());

	Options o;
	for (const std::string &f : files) {
		std::vector<std::string> words = TRY(read_config_file(f));
		words.insert(words.begin(), "criu");
		auto pos = TRY_CTX(parse_words(o, words, nullptr, nullptr), "config file {}", f);
		if (!pos.empty())
			return fail(EINVAL, "config file {}: stray word '{}'", f, pos.front());
		o.config_files_read.push_back(f);
	}
	auto positional = TRY(parse_words(o, argv, nullptr, nullptr));
	if (positional.empty())
		return fail(EINVAL, "no command given (dump, pre-dump, restore, check, page-server, ...)");
	o.command = positional.front();
	if (positional.size() > 1)
		return fail(EINVAL, "unexpected argument '{}'", positional[1]);
	return o;
}

std::vector<std::string> Options::seal_certs() const
{
	if (!tls_certs.empty())
		return tls_certs;
	return {std::string(CRIU_PKI_DIR) + "/criu/cert.pem"};
}

std::string Options::open_key() const
{
	if (!tls_key.empty())
		return tls_key;
	return std::string(CRIU_PKI_DIR) + "/criu/private/key.pem";
}

} // namespace criu

namespace criu {

std::string Options::ca_cert() const
{
	if (!tls_cacert.empty())
		return tls_cacert;
	return std::string(CRIU_PKI_DIR) + "/CA/cacert.pem";
}

} // namespace criu
