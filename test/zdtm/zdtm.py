#!/usr/bin/env python3
"""zdtm.py: run the zdtm checkpoint/restore tests (after CRIU's zdtm.py).

  zdtm.py run [-t NAME ...|-a|--list FILE] [--flavor plain|enc|all] [--norst] [--keep]
              [--criu PATH] [--builddir DIR] [-j N] [--fault] [--seize]

Each test program sets up some state, writes its pid to a pidfile and waits for SIGTERM;
in between, the runner dumps it with criu (which kills it) and restores it. After SIGTERM the
program checks its state and writes PASS or FAIL to its outfile. See README.md.
"""

import argparse
import concurrent.futures
import ctypes
import fcntl
import glob
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time

ZDTM_DIR = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.dirname(os.path.dirname(ZDTM_DIR))
PR_SET_CHILD_SUBREAPER = 36

PIDFILE_TIMEOUT = 30
EXIT_TIMEOUT = 30
CRIU_TIMEOUT = 300

# Tests that need more time to check themselves after SIGTERM.
EXIT_TIMEOUTS = {"timer-nanosleep": 60}


class TestError(Exception):
    """A test failed; the message says why, detail is extra text (logs) to print."""

    def __init__(self, msg, detail=""):
        super().__init__(msg)
        self.detail = detail


def log_tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            text = f.read().splitlines()
    except OSError as e:
        return f"({path}: {e.strerror})"
    return "\n".join(f"    {line}" for line in text[-lines:])


def set_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(err)}")


def proc_stat(pid):
    """(state, ppid, session) of pid, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[3])


class Procs:
    """Every pid the runner started or that was restored, until it is reaped.

    Those pids are the runner's children (or re-parented to it, the subreaper), so they stay
    zombies until reaped here: killing a recorded pid never hits a stranger."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pids = set()

    def add(self, pid):
        with self.lock:
            self.pids.add(pid)

    def reaped(self, pid):
        with self.lock:
            self.pids.discard(pid)

    def wait(self, pid, timeout, flags=0):
        """waitpid(pid) with a timeout: the status, or None on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                wpid, status = os.waitpid(pid, os.WNOHANG | flags)
            except ChildProcessError:
                raise TestError(f"pid {pid} is not a child of the runner")
            if wpid == pid:
                if os.WIFEXITED(status) or os.WIFSIGNALED(status):
                    self.reaped(pid)
                    wait_gone(pid)
                return status
            if time.monotonic() > deadline:
                return None
            time.sleep(0.02)

    def kill(self, pid):
        """SIGKILL a recorded pid and reap it."""
        with self.lock:
            if pid not in self.pids:
                return
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.wait(pid, 10)
        except TestError:
            wait_gone(pid)
            self.reaped(pid)

    def kill_all(self):
        with self.lock:
            pids = list(self.pids)
        for pid in pids:
            self.kill(pid)


def wait_gone(pid, timeout=10):
    deadline = time.monotonic() + timeout
    while os.path.exists(f"/proc/{pid}"):
        if time.monotonic() > deadline:
            raise TestError(f"pid {pid} still in /proc after {timeout}s")
        time.sleep(0.01)


def session_members(sid):
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st and st[2] == sid and st[0] != "Z":
                pids.append(int(d))
    return pids


def descendants(pid, zombies=False):
    """Every live process below pid (children, grandchildren, ...); with zombies, those too."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if zombies or fields[0] != "Z":
                parent[int(d)] = int(fields[1])
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT = 17, 0x4206, 0x4207
WALL = 0x40000000


def seize_cycle(pid):
    """What criu dump does to a task, without the dump: PTRACE_SEIZE every thread, interrupt
    them (syscalls in progress end or are set up to restart), wait, detach."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    tids = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
    seized = []
    try:
        for tid in tids:
            if libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0:
                raise TestError(f"PTRACE_SEIZE {tid}: {os.strerror(ctypes.get_errno())}")
            seized.append(tid)
        for tid in tids:
            libc.ptrace(PTRACE_INTERRUPT, tid, None, None)
        for tid in tids:
            os.waitpid(tid, WALL)
        time.sleep(0.2)
    finally:
        for tid in seized:
            libc.ptrace(PTRACE_DETACH, tid, None, None)


def describe_status(status):
    if os.WIFEXITED(status):
        return f"exit status {os.WEXITSTATUS(status)}"
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)} ({signal.Signals(os.WTERMSIG(status)).name})"
    return f"status {status:#x}"


class Run:
    """One test in one flavor: a fresh directory, the program, and criu."""

    def __init__(self, opts, procs, name, flavor, topdir):
        self.opts = opts
        self.procs = procs
        self.name = name
        self.flavor = flavor
        self.dir = os.path.join(topdir, f"{name}.{flavor}")
        self.imgdir = os.path.join(self.dir, "img")
        self.pidfile = os.path.join(self.dir, f"{name}.pid")
        self.outfile = os.path.join(self.dir, f"{name}.out")
        self.pki = os.path.join(topdir, "pki")
        self.pid = None

    def start(self):
        os.makedirs(self.imgdir)
        exe = os.path.join(self.opts.builddir, "test", "zdtm", self.name)
        argv = [exe, f"--pidfile={self.pidfile}", f"--outfile={self.outfile}"]
        pid = os.fork()
        if pid == 0:
            try:
                os.setsid()
                for sig in signal.valid_signals():
                    if sig not in (signal.SIGKILL, signal.SIGSTOP):
                        try:
                            signal.signal(sig, signal.SIG_DFL)
                        except (OSError, ValueError):
                            pass
                signal.pthread_sigmask(signal.SIG_SETMASK, [])
                os.chdir(self.dir)
                null = os.open("/dev/null", os.O_RDONLY)
                out = os.open(self.outfile, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                os.dup2(null, 0)
                os.dup2(out, 1)
                os.dup2(out, 2)
                os.closerange(3, 65536)
                os.execv(exe, argv)
            finally:
                os._exit(127)
        self.procs.add(pid)
        self.pid = pid
        self.wait_pidfile()

    def wait_pidfile(self):
        deadline = time.monotonic() + PIDFILE_TIMEOUT
        while not os.path.exists(self.pidfile):
            status = self.procs.wait(self.pid, 0)
            if status is not None:
                raise TestError(f"exited before it was ready: {describe_status(status)}")
            if time.monotonic() > deadline:
                raise TestError(f"no pidfile after {PIDFILE_TIMEOUT}s")
            time.sleep(0.02)
        with open(self.pidfile) as f:
            pid = int(f.read())
        if pid != self.pid:
            raise TestError(f"pidfile says {pid}, started {self.pid}")

    def criu(self, action, args):
        log = os.path.join(self.imgdir, f"{action}.log")
        cmd = [self.opts.criu, action, "-D", self.imgdir, "-v4", "-o", log] + args + self.extra_opts()
        try:
            res = subprocess.run(cmd, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, timeout=CRIU_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise TestError(f"criu {action} timed out after {CRIU_TIMEOUT}s", log_tail(log))
        if res.returncode != 0:
            out = res.stdout.decode(errors="replace").strip()
            raise TestError(f"criu {action} exited with {res.returncode}",
                            (f"    {out}\n" if out else "") + log_tail(log))

    def extra_opts(self):
        """The words of static/NAME.opts (e.g. --tcp-established), given to dump and restore."""
        path = os.path.join(ZDTM_DIR, "static", self.name + ".opts")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return f.read().split()

    def dump(self):
        args = ["-t", str(self.pid)]
        if self.flavor == "enc":
            args += ["--encrypt", "--tls-cert", os.path.join(self.pki, "cert.pem")]
        tree = descendants(self.pid, zombies=True)
        for pid in tree:
            self.procs.add(pid)
        self.criu("dump", args)
        # criu dump kills the task: reap it, wait until its pid is free for the restore.
        status = self.procs.wait(self.pid, EXIT_TIMEOUT)
        if status is None:
            raise TestError("still alive after criu dump")
        if not os.WIFSIGNALED(status):
            raise TestError(f"dumped task ended with {describe_status(status)}, not killed by criu")
        # The killed tree's other tasks are re-parented to the runner (the subreaper) once their
        # parent is gone: reap them parents first (a child is ours only after its parent died).
        for pid in tree:
            if self.procs.wait(pid, EXIT_TIMEOUT) is None:
                raise TestError(f"task {pid} of the tree is still alive after criu dump")

    def restore(self):
        rst_pid = os.path.join(self.imgdir, "rst.pid")
        # --restore-sibling: the task comes back as the runner's child, as it was.
        args = ["-d", "--restore-sibling", "--pidfile", rst_pid]
        if self.flavor == "enc":
            args += ["--tls-key", os.path.join(self.pki, "private", "key.pem")]
        try:
            self.criu("restore", args)
        finally:
            # Whatever criu left behind is killed at the end: record the session's members.
            for pid in session_members(self.pid) + descendants(self.pid):
                self.procs.add(pid)
        with open(rst_pid) as f:
            pid = int(f.read())
        self.procs.add(pid)
        if pid != self.pid:
            raise TestError(f"restored as pid {pid}, was {self.pid}")
        st = proc_stat(pid)
        if st is None or st[1] != os.getpid():
            raise TestError(f"restored task {pid} is not a child of the runner (stat {st})")

    def stop(self):
        """For *stopped* tests: SIGSTOP before the checkpoint."""
        os.kill(self.pid, signal.SIGSTOP)
        self.expect_stopped("after SIGSTOP")

    def expect_stopped(self, when):
        deadline = time.monotonic() + 10
        while (st := proc_stat(self.pid)) and st[0] != "T":
            if time.monotonic() > deadline:
                raise TestError(f"not stopped {when} (state {st[0]})")
            time.sleep(0.02)

    def finish(self):
        if "stopped" in self.name:
            self.expect_stopped("after restore" if not self.opts.norst else "")
            os.kill(self.pid, signal.SIGCONT)
        if self.opts.fault:
            FAULTS[self.name](self)
        os.kill(self.pid, signal.SIGTERM)
        timeout = EXIT_TIMEOUTS.get(self.name, EXIT_TIMEOUT)
        status = self.procs.wait(self.pid, timeout)
        if status is None:
            raise TestError(f"did not exit {timeout}s after SIGTERM", log_tail(self.outfile))
        left = session_members(self.pid)
        if left:
            for pid in left:
                self.procs.add(pid)
            raise TestError(f"processes left behind: {left}")
        with open(self.outfile, errors="replace") as f:
            lines = f.read().splitlines()
        fails = [line for line in lines if line.startswith("FAIL")]
        skips = [line[6:] for line in lines if line.startswith("SKIP: ")]
        if fails or "PASS" not in lines or status != 0:
            why = fails[0] if fails else "no PASS" if status == 0 else f"no PASS, {describe_status(status)}"
            if fails and status != 0 and not os.WIFEXITED(status):
                why += f" ({describe_status(status)})"
            raise TestError(why, log_tail(self.outfile))
        return f"skipped: {skips[0]}" if skips else ""

    def run(self):
        self.start()
        if "stopped" in self.name:
            self.stop()
        if self.opts.seize:
            seize_cycle(self.pid)
        elif not self.opts.norst:
            self.dump()
            self.restore()
        return self.finish()


def run_one(opts, procs, name, flavor, topdir, out_lock):
    r = Run(opts, procs, name, flavor, topdir)
    t0 = time.monotonic()
    ok, note, detail = True, "", ""
    try:
        note = r.run()
    except (TestError, OSError, ValueError) as e:
        ok, note, detail = False, str(e), getattr(e, "detail", "")
    finally:
        if r.pid:
            for pid in session_members(r.pid):
                procs.add(pid)
                procs.kill(pid)
            procs.kill(r.pid)
    if opts.fault:
        # With --fault a test must notice the injected fault and FAIL.
        ok, note = (not ok, f"detected: {note}") if not ok else (False, "fault not detected")
    secs = time.monotonic() - t0
    with out_lock:
        line = f"{'PASS' if ok else 'FAIL'}  {name} ({flavor}) {secs:.1f}s"
        print(line + (f": {note}" if note else ""), flush=True)
        if not ok:
            if detail:
                print(detail, flush=True)
            print(f"    files kept in {r.dir}", flush=True)
    if ok and not opts.keep:
        shutil.rmtree(r.dir, ignore_errors=True)
    return ok


def all_tests():
    return sorted(os.path.basename(p)[:-2] for p in glob.glob(os.path.join(ZDTM_DIR, "static", "*.c")))


def read_list(path):
    names = []
    with open(path) as f:
        for line in f:
            name = line.split("#", 1)[0].strip()
            if name:
                names.append(name)
    return names


def pick_tests(opts):
    known = set(all_tests())
    if opts.all:
        names = all_tests()
    elif opts.list:
        names = read_list(opts.list)
    else:
        names = opts.test or []
    unknown = [n for n in names if n not in known]
    if unknown:
        sys.exit(f"zdtm: unknown tests: {' '.join(unknown)}")
    if opts.fault:
        names = [n for n in names if n in FAULTS]
    return names


def make_pki(topdir):
    keygen = os.path.join(SRC_ROOT, "contrib", "criu-keygen")
    res = subprocess.run([keygen, "-d", os.path.join(topdir, "pki"), "--bits", "2048", "-n", "zdtm"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if res.returncode != 0:
        sys.exit(f"zdtm: criu-keygen failed: {res.stdout.decode(errors='replace')}")


def cmd_run(opts):
    opts.builddir = os.path.abspath(opts.builddir)
    opts.criu = os.path.abspath(opts.criu or os.path.join(opts.builddir, "criu", "criu"))
    names = pick_tests(opts)
    if not names:
        print("zdtm: no tests to run (tests.list has none enabled)")
        return 0
    missing = [n for n in names if not os.access(os.path.join(opts.builddir, "test", "zdtm", n), os.X_OK)]
    if missing:
        sys.exit(f"zdtm: not built in {opts.builddir}: {' '.join(missing)} (add them to test/zdtm/meson.build)")
    if opts.seize:
        opts.norst = True
        flavors = ["seize"]
    elif opts.norst or opts.fault:
        opts.norst = True
        flavors = ["norst"]
    else:
        flavors = ["plain", "enc"] if opts.flavor == "all" else [opts.flavor]
        if not os.access(opts.criu, os.X_OK):
            sys.exit(f"zdtm: no criu at {opts.criu}")
    set_subreaper()
    topdir = tempfile.mkdtemp(prefix="zdtm-")
    if "enc" in flavors:
        make_pki(topdir)
    procs, out_lock = Procs(), threading.Lock()
    jobs = [(n, f) for n in names for f in flavors]
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=opts.jobs) as ex:
            results = list(ex.map(lambda j: run_one(opts, procs, j[0], j[1], topdir, out_lock), jobs))
    finally:
        procs.kill_all()
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    if passed == len(results) and not opts.keep:
        shutil.rmtree(topdir, ignore_errors=True)
    return 0 if passed == len(results) else 1


# --fault: for a test, something done from outside between "ready" and SIGTERM that the test
# must notice. Proves that its checks really check (run with --norst).
def fault_mem(run, perms, size_pages, offset=0):
    """Flips a byte in the first mapping of that size and perms, through /proc/PID/mem."""
    ps = os.sysconf("SC_PAGE_SIZE")
    with open(f"/proc/{run.pid}/maps") as f:
        for line in f:
            rng, p = line.split()[:2]
            start, end = (int(x, 16) for x in rng.split("-"))
            if p == perms and end - start == size_pages * ps:
                with open(f"/proc/{run.pid}/mem", "r+b", buffering=0) as mem:
                    mem.seek(start + offset)
                    b = mem.read(1)
                    mem.seek(start + offset)
                    mem.write(bytes([b[0] ^ 0xFF]))
                return
    raise TestError(f"fault: no {perms} mapping of {size_pages} pages")


def fault_signal(sig):
    return lambda run: os.kill(run.pid, sig)


def fault_tgkill(thread_index, sig):
    """Sends sig to one thread (by its place in /proc/PID/task, main thread first)."""
    def inject(run):
        tids = sorted(int(t) for t in os.listdir(f"/proc/{run.pid}/task"))
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.syscall(234, run.pid, tids[thread_index], sig) != 0:  # SYS_tgkill
            raise TestError("fault: tgkill failed")
    return inject


def fault_file_write(name, offset, data=b"garbage"):
    """Writes into a file in the test's directory, behind the test's back."""
    def inject(run):
        with open(os.path.join(run.dir, name), "r+b") as f:
            f.seek(offset)
            f.write(data)
    return inject


def fault_fd_write(link_part, offset, data=b"garbage"):
    """Writes through /proc/PID/fd/N, the first fd whose link contains link_part."""
    def inject(run):
        for fd in os.listdir(f"/proc/{run.pid}/fd"):
            if link_part in os.readlink(f"/proc/{run.pid}/fd/{fd}"):
                with open(f"/proc/{run.pid}/fd/{fd}", "r+b") as f:
                    f.seek(offset)
                    f.write(data)
                return
        raise TestError(f"fault: no fd like {link_part}")
    return inject


def fault_unlink(name):
    return lambda run: os.unlink(os.path.join(run.dir, name))


def fault_prlimit(run):
    soft, hard = resource.prlimit(run.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(run.pid, resource.RLIMIT_NOFILE, (soft - 1, hard))


def fault_create(name):
    return lambda run: open(os.path.join(run.dir, name), "w").close()


def fault_fifo_write(name):
    """One more byte into a FIFO in the test's directory."""
    def inject(run):
        fd = os.open(os.path.join(run.dir, name), os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, b"g")
        os.close(fd)
    return inject


def fault_pty_winsize(run):
    """Another window size for the test's pty slave."""
    for fd in os.listdir(f"/proc/{run.pid}/fd"):
        if os.readlink(f"/proc/{run.pid}/fd/{fd}").startswith("/dev/pts/"):
            tty = os.open(f"/proc/{run.pid}/fd/{fd}", os.O_RDWR | os.O_NOCTTY)
            fcntl.ioctl(tty, termios.TIOCSWINSZ, struct.pack("HHHH", 1, 2, 3, 4))
            os.close(tty)
            return
    raise TestError("fault: no pty slave")


SIGRTMIN = 34  # the kernel's; glibc's SIGRTMIN is 34 as well (32 and 33 are its own)

FAULTS = {
    "maps00": lambda r: fault_mem(r, "rw-p", 1024, 4096 * 5 + 7),
    "maps-sparse": lambda r: fault_mem(r, "rw-p", (4 << 30) // 4096, 0),
    "shm-anon": lambda r: fault_mem(r, "rw-s", 32, 100),
    "maps-file-shared": fault_file_write("maps-file-shared.data", 4096 * 2 + 5),
    "maps-file-prv": fault_file_write("maps-file-prv.data", 0),
    "memfd00": fault_fd_write("memfd:zdtm-memfd", 4096 * 3),
    "memfd-shared00": lambda r: fault_mem(r, "rw-s", 16, 4096 * 5 + 3),
    "memfd-shared01": fault_fd_write("memfd:zdtm-shared01-b", 4096 * 2),
    "unlink-fstat00": fault_fd_write("unlink-fstat00.data", 100),
    "file-pos": fault_file_write("file-pos.data", 10000, b"more"),
    "file-shared00": fault_file_write("file-shared00.data", 120),
    "rlimits00": fault_prlimit,
    "cwd00": fault_unlink("cwd00.dir/marker"),
    "dir-fd": fault_unlink("dir-fd.dir/inside"),
    "umask00": fault_create("umask00.file"),
    "sigpending00": fault_signal(SIGRTMIN + 1),
    "sigqueue00": fault_signal(SIGRTMIN + 1),
    "posix-timer-thread": fault_signal(SIGRTMIN + 6),
    "thread-sleep": fault_tgkill(1, signal.SIGUSR1),
    "fifo00": fault_fifo_write("fifo00.fifo"),
    "file-locks00": fault_unlink("file-locks00.posix"),
    "pty00": fault_pty_winsize,
    "stopped": lambda r: (time.sleep(0.2), os.kill(r.pid, signal.SIGCONT)),
}


def main():
    ap = argparse.ArgumentParser(description="zdtm checkpoint/restore tests")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run tests")
    sel = r.add_mutually_exclusive_group(required=True)
    sel.add_argument("-t", "--test", action="append", metavar="NAME", help="a test (repeatable)")
    sel.add_argument("-a", "--all", action="store_true", help="every test program")
    sel.add_argument("--list", metavar="FILE", help="the tests named in FILE (tests.list)")
    r.add_argument("--flavor", choices=["plain", "enc", "all"], default="plain")
    r.add_argument("--norst", action="store_true", help="no checkpoint: start, SIGTERM, check")
    r.add_argument("--fault", action="store_true",
                   help="inject each test's fault from outside; the test must FAIL (implies --norst)")
    r.add_argument("--seize", action="store_true",
                   help="no checkpoint, but seize, interrupt and detach every thread as criu dump does")
    r.add_argument("--keep", action="store_true", help="keep every test's directory")
    r.add_argument("--criu", metavar="PATH", help="criu binary (default BUILDDIR/criu/criu)")
    r.add_argument("--builddir", default=os.path.join(SRC_ROOT, "build"), metavar="DIR")
    r.add_argument("-j", "--jobs", type=int, default=1, metavar="N")
    opts = ap.parse_args()
    return cmd_run(opts)


if __name__ == "__main__":
    sys.exit(main())
