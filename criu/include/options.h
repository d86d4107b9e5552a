// criu's options, parsed once from config files and the command line into an immutable value
// that is passed down by reference. Names, defaults and config syntax follow CRIU's.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace criu {

enum class PreDumpMode { Splice, Read };

struct Options {
	std::string command; // dump, pre-dump, restore, check, page-server, ...

	pid_t tree = 0;                // -t/--tree
	std::string images_dir = "."; // -D/--images-dir
	std::string work_dir;          // -W/--work-dir; empty: the images directory
	std::string log_file;          // -o/--log-file; relative names land in the work dir
	int verbosity = 2;             // -v[NUM], --verbosity=NUM
	bool leave_running = false;    // -R/--leave-running
	bool shell_job = false;        // -j/--shell-job
	bool restore_detached = false; // -d/--restore-detached
	bool restore_sibling = false;  // --restore-sibling
	std::string pidfile;           // --pidfile
	unsigned timeout = 10;         // --timeout (seconds to wait while freezing)
	PreDumpMode pre_dump_mode = PreDumpMode::Splice;
	bool tcp_established = false;
	bool ext_unix_sk = false;
	bool file_locks = false;
	std::vector<std::string> action_scripts;
	std::vector<std::string> features; // check --feature NAME

	// Encryption and TLS (CRIU's PKI defaults)
	bool encrypt = false; // -e/--encrypt
	bool tls = false;     // --tls (page server)
	std::vector<std::string> tls_certs;
	std::string tls_key;
	std::string tls_cacert;

	// Page server
	std::string address;
	uint16_t port = 0;
	bool page_server = false;

	// Derived paths, filled by parse_options.
	std::vector<std::string> config_files_read;

	// Certificates to seal for, and the key to open with, after applying the defaults.
	std::vector<std::string> seal_certs() const;
	std::string open_key() const;
	std::string ca_cert() const;
};

struct ParseEnv {
	std::string global_config = "/etc/criu/default.conf";
	std::string user_config;               // $HOME/.criu/default.conf
	std::string env_config;                // $CRIU_CONFIG_FILE
	static ParseEnv from_process();
};

// Parses argv (argv[0] is the program). Config files are read first, in CRIU's order
// (global, user, $CRIU_CONFIG_FILE, --config), so the command line wins.
[[nodiscard]] Result<Options> parse_options(const std::vector<std::string> &argv, const ParseEnv &env);

// One config file's options as command-line words ("--name", "value").
[[nodiscard]] Result<std::vector<std::string>> read_config_file(const std::string &path);

} // namespace criu
