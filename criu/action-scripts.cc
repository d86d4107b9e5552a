// Action scripts, as CRIU runs them: each --action-script through /bin/sh with the action's
// name and the images directory in the environment. The images directory is passed as CRIU
// passes it, a /proc/CRIU_PID/fd/N link to a descriptor criu holds open while scripts run.
#define LOG_PREFIX "action-scripts: "
#include "action-scripts.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>

#include "common/log.h"
#include "common/unique-fd.h"
#include "common/xio.h"

extern char **environ;

namespace criu {
namespace {

constexpr std::array kOurVars = {"CRTOOLS_SCRIPT_ACTION=", "CRTOOLS_IMAGE_DIR=", "CRTOOLS_INIT_PID="};

bool is_our_var(std::string_view entry)
{
	for (std::string_view v : kOurVars)
		if (entry.starts_with(v))
			return true;
	return false;
}

// criu's environment without stale CRTOOLS_* values, then this action's.
std::vector<std::string> script_environment(ScriptAction action, const std::string &image_dir, pid_t root_pid)
{
	std::vector<std::string> env;
	for (char **e = environ; e && *e; e++)
		if (!is_our_var(*e))
			env.emplace_back(*e);
	for (std::string &v : action_script_env(action, image_dir, root_pid))
		env.push_back(std::move(v));
	return env;
}

std::string describe_status(int st)
{
	if (WIFSIGNALED(st))
		return fmt::format("was killed by signal {}", WTERMSIG(st));
	return fmt::format("exited with {}", WEXITSTATUS(st));
}

// fork + exec of /bin/sh -c SCRIPT; only async-signal-safe calls between fork and exec.
Result<int> run_one(const std::string &script, const std::vector<std::string> &env)
{
	std::vector<char *> envp;
	for (const std::string &e : env)
		envp.push_back(const_cast<char *>(e.c_str()));
	envp.push_back(nullptr);
	const char *argv[] = {"sh", "-c", script.c_str(), nullptr};
	UniqueFd null = TRY(xio::open("/dev/null", O_RDONLY | O_CLOEXEC));
	int log_fd = log::fd();

	pid_t pid = fork();
	if (pid < 0)
		return fail_errno("can't fork for script {}", script);
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, nullptr); // criu blocks SIGCHLD (see main)
		dup2(null.get(), STDIN_FILENO);
		if (log_fd >= 0) {
			dup2(log_fd, STDOUT_FILENO);
			dup2(log_fd, STDERR_FILENO);
		}
		execve("/bin/sh", const_cast<char **>(argv), envp.data());
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return fail_errno("waiting for script {} (pid {})", script, pid);
	return st;
}

} // namespace

std::string_view action_name(ScriptAction action)
{
	switch (action) {
	case ScriptAction::PreDump: return "pre-dump";
	case ScriptAction::PostDump: return "post-dump";
	case ScriptAction::PreRestore: return "pre-restore";
	case ScriptAction::PostRestore: return "post-restore";
	case ScriptAction::PreResume: return "pre-resume";
	case ScriptAction::PostResume: return "post-resume";
	case ScriptAction::NetworkLock: return "network-lock";
	case ScriptAction::NetworkUnlock: return "network-unlock";
	}
	return "unknown";
}

std::vector<std::string> action_script_env(ScriptAction action, const std::string &image_dir, pid_t root_pid)
{
	std::vector<std::string> env = {
		fmt::format("CRTOOLS_SCRIPT_ACTION={}", action_name(action)),
		fmt::format("CRTOOLS_IMAGE_DIR={}", image_dir),
	};
	if (root_pid > 0)
		env.push_back(fmt::format("CRTOOLS_INIT_PID={}", root_pid));
	return env;
}

Result<> run_action_scripts(const Options &opts, ScriptAction action, pid_t root_pid)
{
	std::string_view name = action_name(action);
	pr_debug("Running {} scripts", name);
	if (opts.action_scripts.empty())
		return {};
	UniqueFd dir = TRY_CTX(xio::open(opts.images_dir, O_PATH | O_DIRECTORY | O_CLOEXEC),
			       "images directory for {} scripts", name);
	std::string dir_link = fmt::format("/proc/{}/fd/{}", getpid(), dir.get());
	std::vector<std::string> env = script_environment(action, dir_link, root_pid);

	std::string failed;
	for (const std::string &script : opts.action_scripts) {
		pr_debug("\t[{}]", script);
		int st = TRY(run_one(script, env));
		if (st == 0)
			continue;
		pr_err("Script {} {}", script, describe_status(st));
		if (failed.empty())
			failed = fmt::format("{} script {} {}", name, script, describe_status(st));
	}
	if (!failed.empty())
		return fail(0, "{}", failed);
	return {};
}

} // namespace criu
