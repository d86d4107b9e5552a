#include <catch2/catch.hpp>

#include "options.h"
#include "test-dirs.h"

using namespace criu;
using namespace criu::test;

namespace {

ParseEnv no_files()
{
	ParseEnv e;
	e.global_config.clear();
	return e;
}

Options parse(std::vector<std::string> argv, const ParseEnv &env = no_files())
{
	argv.insert(argv.begin(), "criu");
	auto o = parse_options(argv, env);
	if (!o)
		FAIL(o.error().describe());
	return *o;
}

} // namespace

TEST_CASE("CRIU's short and long option forms")
{
	Options o = parse({"dump", "-t", "42", "-D", "/imgs", "-o", "dump.log", "-v4", "-R", "-j", "--pidfile", "p"});
	CHECK(o.command == "dump");
	CHECK(o.tree == 42);
	CHECK(o.images_dir == "/imgs");
	CHECK(o.log_file == "dump.log");
	CHECK(o.verbosity == 4);
	CHECK(o.leave_running);
	CHECK(o.shell_job);
	CHECK(o.pidfile == "p");

	o = parse({"--tree", "7", "--images-dir=/x", "--log-file=l", "--verbosity=3", "--leave-running", "dump",
		   "--timeout", "5", "--pre-dump-mode", "read", "--encrypt", "--tls-cert", "a.pem", "--tls-cert",
		   "b.pem"});
	CHECK(o.tree == 7);
	CHECK(o.images_dir == "/x");
	CHECK(o.verbosity == 3);
	CHECK(o.timeout == 5);
	CHECK(o.pre_dump_mode == PreDumpMode::Read);
	CHECK(o.encrypt);
	CHECK(o.seal_certs() == std::vector<std::string>{"a.pem", "b.pem"});
	CHECK(o.open_key() == "/etc/pki/criu/private/key.pem");
	CHECK(o.ca_cert() == "/etc/pki/CA/cacert.pem");
	o = parse({"restore", "--tls-key", "k.pem", "--tls-cacert", "ca.pem"});
	CHECK(o.open_key() == "k.pem");
	CHECK(o.ca_cert() == "ca.pem");
	CHECK(o.seal_certs() == std::vector<std::string>{"/etc/pki/criu/cert.pem"});

	o = parse({"restore", "-d", "-e", "--restore-sibling", "-vvv"});
	CHECK(o.restore_detached);
	CHECK(o.encrypt);
	CHECK(o.restore_sibling);
	CHECK(o.verbosity == 5);
}

TEST_CASE("bad options are refused with the option named")
{
	auto r = parse_options({"criu", "dump", "--no-such-option"}, no_files());
	REQUIRE(!r);
	CHECK(r.error().message().find("--no-such-option") != std::string::npos);
	r = parse_options({"criu", "dump", "-t", "abc"}, no_files());
	REQUIRE(!r);
	CHECK(r.error().message().find("abc") != std::string::npos);
	r = parse_options({"criu", "dump", "--pre-dump-mode", "mmap"}, no_files());
	REQUIRE(!r);
	r = parse_options({"criu"}, no_files());
	REQUIRE(!r);
}

TEST_CASE("config files: CRIU's syntax and order, the command line wins")
{
	TempDir t;
	std::string global = t / "default.conf", envf = t / "env.conf", cli = t / "cli.conf";
	write_bytes(global, {});
	{
		std::string g = "# global\nencrypt\ntls-cert /g/cert.pem\nimages-dir /from-global\n";
		write_bytes(global, std::vector<uint8_t>(g.begin(), g.end()));
		std::string e = "images-dir \"/from env\"  # comment\nverbosity 4\n";
		write_bytes(envf, std::vector<uint8_t>(e.begin(), e.end()));
		std::string c = "\n  leave-running\n";
		write_bytes(cli, std::vector<uint8_t>(c.begin(), c.end()));
	}
	ParseEnv env;
	env.global_config = global;
	env.env_config = envf;
	Options o = parse({"dump", "--config", cli, "-t", "1"}, env);
	CHECK(o.encrypt);
	CHECK(o.images_dir == "/from env");
	CHECK(o.verbosity == 4);
	CHECK(o.leave_running);
	CHECK(o.seal_certs() == std::vector<std::string>{"/g/cert.pem"});
	CHECK(o.config_files_read == std::vector<std::string>{global, envf, cli});

	o = parse({"dump", "-D", "/cli", "-v1"}, env);
	CHECK(o.images_dir == "/cli");
	CHECK(o.verbosity == 1);

	o = parse({"dump", "--no-default-config"}, env);
	CHECK(!o.encrypt);
	CHECK(o.images_dir == "/from env");

	std::string bad = "--encrypt\n";
	write_bytes(cli, std::vector<uint8_t>(bad.begin(), bad.end()));
	auto r = parse_options({"criu", "dump", "--config", cli}, env);
	REQUIRE(!r);
	CHECK(r.error().message().find(cli) != std::string::npos);
}
