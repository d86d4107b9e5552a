#!/usr/bin/env python3
"""End-to-end tests of criu dump and restore on real programs.

usage: e2e.py --criu PATH --mt-counter PATH --keygen PATH [-k NAME]

Each scenario starts real processes (a python3 interpreter, a bash loop, a multi-threaded C++
program), checkpoints and restores them with the real criu, and checks that they go on where
they were. Every process a scenario started or restored is killed by PID at the end, pass or
fail. Runs as root."""
import argparse
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

PR_SET_CHILD_SUBREAPER = 36


class Failure(Exception):
    pass


class Env:
    def __init__(self, args, tmp):
        self.criu = args.criu
        self.mt_counter = args.mt_counter
        self.keygen = args.keygen
        self.tmp = tmp
        self.pids = set()  # every process we started or restored
        self._pki = None

    def pki(self):
        if not self._pki:
            self._pki = os.path.join(self.tmp, "pki")
            subprocess.run([self.keygen, "-d", self._pki], check=True, capture_output=True)
        return self._pki

    def start(self, out, *argv):
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=open(out, "w"),
                             stderr=subprocess.STDOUT, close_fds=True, start_new_session=True)
        self.pids.add(p.pid)
        return p.pid

    def criu_run(self, *argv, check=True):
        r = subprocess.run([self.criu, *argv], capture_output=True, text=True)
        if check and r.returncode != 0:
            raise Failure(f"criu {' '.join(argv)} exited {r.returncode}:\n" + log_tail(argv))
        return r

    def dump(self, pid, d, *extra, encrypt=False):
        os.makedirs(d, exist_ok=True)
        enc = ["--encrypt", "--tls-cert", os.path.join(self.pki(), "cert.pem")] if encrypt else []
        self.pids.update([pid] + descendants(pid))
        self.criu_run("dump", "-t", str(pid), "-D", d, "-v4", "-o", "dump.log", *enc, *extra)
        if "-R" not in extra:
            # Every dumped task (a core image each) is killed; the others come to us, the
            # subreaper, once their parent is gone.
            for p in sorted(int(f[5:-4]) for f in os.listdir(d) if f.startswith("core-")):
                self.pids.add(p)
                reap_any()
                reap(p)

    def restore(self, d, *extra, encrypt=False, check=True):
        enc = ["--tls-key", os.path.join(self.pki(), "private", "key.pem")] if encrypt else []
        pidfile = os.path.join(d, "restore.pid")
        r = self.criu_run("restore", "-D", d, "-d", "-v4", "-o", "restore.log", "--pidfile", pidfile,
                          *enc, *extra, check=check)
        if r.returncode == 0:
            pid = int(open(pidfile).read())
            self.pids.update([pid] + descendants(pid))
            return pid
        return r

    def cleanup(self):
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in self.pids:
            reap(pid)


def log_tail(argv):
    try:
        d = argv[argv.index("-D") + 1]
        name = "dump.log" if argv[0] == "dump" else "restore.log"
        return "".join(open(os.path.join(d, name)).readlines()[-15:])
    except (ValueError, OSError):
        return ""


def descendants(pid):
    """Every process below pid (zombies included: they too must be reaped)."""
    parent = {}
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(d)] = int(fields[1])
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


def reap_any():
    """Reaps whatever children of ours have exited."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def reap(pid, timeout=10):
    """Waits for pid to exit (reaping it when it is our child) and for /proc/PID to go."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                pass
        except ChildProcessError:
            reap_any()  # not (yet) ours: maybe re-parented to us as its parent died
        if not os.path.exists(f"/proc/{pid}"):
            return
        time.sleep(0.02)
    raise Failure(f"process {pid} did not go away")


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def wait_lines(path, n, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        lines = open(path).read().splitlines()
        if len(lines) >= n:
            return lines
        time.sleep(0.05)
    raise Failure(f"{path}: fewer than {n} lines after {timeout} s")


def numbers(lines, pattern):
    out = []
    for l in lines:
        m = re.match(pattern, l)
        if m:
            out.append(int(m.group(1)))
    return out


def check_continues(path, before, pattern, more=3):
    """The output goes on after restore: more lines, numbering consecutive across the restore."""
    lines = wait_lines(path, before + more)
    seq = numbers(lines, pattern)
    if len(seq) < before + more:
        raise Failure(f"{path}: unexpected output:\n" + "\n".join(lines[-10:]))
    for a, b in zip(seq, seq[1:]):
        if b != a + 1:
            raise Failure(f"{path}: sequence jumps from {a} to {b}:\n" + "\n".join(lines[-10:]))
    return lines


# Scenarios -----------------------------------------------------------------------------------

PY_LOOP = """
import hashlib, time
state = {}
h = b''
for i in range(10**9):
    h = hashlib.sha256(h + str(i).encode()).digest()
    state[i % 50000] = h
    if i % 20000 == 0:
        print(f'step {i // 20000} {h.hex()[:16]} {len(state)}', flush=True)
        time.sleep(0.05)
"""

BASH_LOOP = 'i=0; while :; do i=$((i+1)); if (( i % 20000 == 0 )); then echo "step $((i/20000))"; fi; done'


def checkpoint_restore(env, name, argv, pattern, encrypt=False, lines=3):
    d = os.path.join(env.tmp, name)
    out = os.path.join(env.tmp, name + ".out")
    pid = env.start(out, *argv)
    before = len(wait_lines(out, lines))
    env.dump(pid, d, encrypt=encrypt)
    before = len(open(out).read().splitlines())
    rpid = env.restore(d, encrypt=encrypt)
    if rpid != pid:
        raise Failure(f"restored as {rpid}, not {pid}")
    check_continues(out, before, pattern)
    return pid, out


def test_python(env, encrypt=False):
    checkpoint_restore(env, "python" + ("-enc" if encrypt else ""), ["python3", "-c", PY_LOOP], r"step (\d+) ",
                       encrypt=encrypt)


def test_python_encrypted(env):
    test_python(env, encrypt=True)


def test_bash(env):
    checkpoint_restore(env, "bash", ["bash", "-c", BASH_LOOP], r"step (\d+)$")


def test_bash_with_children(env):
    """A shell loop that runs a program each turn: dumped with its child, both come back."""
    checkpoint_restore(env, "bash-sleep", ["bash", "-c", 'i=0; while :; do i=$((i+1)); echo "step $i"; sleep 0.05; done'],
                       r"step (\d+)$")


PIPELINE = ('i=0; while :; do i=$((i+1)); echo $i; done | while read l; do echo "f $l"; done | '
            'while read f l; do if (( l % 5000 == 0 )); then echo "step $((l / 5000))"; fi; done')


def test_pipeline(env, encrypt=False):
    """producer | filter | consumer, with data in flight in both pipes: nothing lost or repeated."""
    checkpoint_restore(env, "pipeline" + ("-enc" if encrypt else ""), ["bash", "-c", PIPELINE], r"step (\d+)$",
                       encrypt=encrypt)


def test_pipeline_encrypted(env):
    test_pipeline(env, encrypt=True)


def check_mt(out, before):
    lines = check_continues(out, before, r"tick (\d+) ")
    if any("BROKEN" in l for l in lines):
        raise Failure(f"{out}: a worker's state broke:\n" + "\n".join(lines[-5:]))
    last = lines[-1].split()
    if len(last) != 7 or not all(int(c) > 0 for c in last[2:6]):
        raise Failure(f"{out}: workers are not all running: {lines[-1]}")


def test_mt(env, encrypt=False):
    name = "mt" + ("-enc" if encrypt else "")
    pid, out = checkpoint_restore(env, name, [env.mt_counter], r"tick (\d+) ", encrypt=encrypt)
    check_mt(out, len(open(out).read().splitlines()))
    threads = len(os.listdir(f"/proc/{pid}/task"))
    if threads != 5:
        raise Failure(f"restored task has {threads} threads, want 5")


def test_mt_encrypted(env):
    test_mt(env, encrypt=True)


def state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0]


def traces(pid):
    """What a dump must leave as it found it: maps, fds and their flags, signal state per thread."""
    fds = {fd: (os.readlink(f"/proc/{pid}/fd/{fd}"),
                [l for l in open(f"/proc/{pid}/fdinfo/{fd}").read().splitlines() if l.split(":")[0] == "flags"])
           for fd in os.listdir(f"/proc/{pid}/fd")}
    signals = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        status = open(f"/proc/{pid}/task/{tid}/status").read().splitlines()
        signals[tid] = [l for l in status if l.split(":")[0] in ("SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt")]
    return open(f"/proc/{pid}/maps").read(), fds, signals


def test_leave_running_twice(env):
    """Two dumps with --leave-running leave no trace; the second, of a stopped task, comes back stopped."""
    out = os.path.join(env.tmp, "lr.out")
    pid = env.start(out, env.mt_counter)
    wait_lines(out, 3)
    maps = open(f"/proc/{pid}/maps").read()
    before = traces(pid)
    env.dump(pid, os.path.join(env.tmp, "lr1"), "-R")
    after = traces(pid)
    for what, a, b in zip(("maps", "fds", "signal state"), before, after):
        if a != b:
            raise Failure(f"dump --leave-running changed the task's {what}:\n{a}\n{b}")
    check_mt(out, len(open(out).read().splitlines()))
    # Stopped, so that its output file stays as the second dump saw it (criu checks file sizes).
    os.kill(pid, signal.SIGSTOP)
    while state(pid) != "T":
        time.sleep(0.01)
    env.dump(pid, os.path.join(env.tmp, "lr2"), "-R")
    if state(pid) != "T":
        raise Failure(f"a stopped task is in state {state(pid)} after dump --leave-running")
    if open(f"/proc/{pid}/maps").read() != maps:
        raise Failure("/proc/PID/maps changed after two --leave-running dumps")
    os.kill(pid, signal.SIGKILL)
    reap(pid)
    before = len(open(out).read().splitlines())
    env.restore(os.path.join(env.tmp, "lr2"))
    time.sleep(0.3)
    if state(pid) != "T" or len(open(out).read().splitlines()) != before:
        raise Failure(f"a task dumped stopped was restored in state {state(pid)}")
    os.kill(pid, signal.SIGCONT)
    check_mt(out, before)


def expect_refused(env, d, what):
    r = env.restore(d, check=False)
    if isinstance(r, int):
        raise Failure(f"restore succeeded despite {what}")
    if r.returncode == 0:
        raise Failure(f"restore exited 0 despite {what}")
    return open(os.path.join(d, "restore.log")).read()


def test_restore_pid_taken(env):
    out = os.path.join(env.tmp, "taken.out")
    pid = env.start(out, env.mt_counter)
    wait_lines(out, 2)
    d = os.path.join(env.tmp, "taken")
    env.dump(pid, d, "-R")
    log = expect_refused(env, d, "the PID being taken")
    if f"PID {pid} is taken" not in log:
        raise Failure("restore onto a taken PID does not say so:\n" + log)


def test_restore_missing_image(env):
    out = os.path.join(env.tmp, "missing.out")
    pid = env.start(out, env.mt_counter)
    wait_lines(out, 2)
    d = os.path.join(env.tmp, "missing")
    env.dump(pid, d)
    os.unlink(os.path.join(d, f"mm-{pid}.img"))
    log = expect_refused(env, d, "a missing image")
    if f"mm-{pid}.img" not in log:
        raise Failure("restore without mm image does not name it:\n" + log)
    if os.path.exists(f"/proc/{pid}"):
        raise Failure(f"a process {pid} exists after a refused restore")


def test_restore_corrupt_core(env):
    out = os.path.join(env.tmp, "corrupt.out")
    pid = env.start(out, env.mt_counter)
    wait_lines(out, 2)
    d = os.path.join(env.tmp, "corrupt")
    env.dump(pid, d)
    core = os.path.join(d, f"core-{pid}.img")
    data = bytearray(open(core, "rb").read())
    data[12:] = b"\xff" * (len(data) - 12)
    open(core, "wb").write(data)
    log = expect_refused(env, d, "a corrupt core image")
    if f"core-{pid}.img" not in log:
        raise Failure("restore of a corrupt core image does not name it:\n" + log)
    if os.path.exists(f"/proc/{pid}"):
        raise Failure(f"a process {pid} exists after a refused restore")


def test_dump_killed(env):
    """criu killed in the middle of a dump: the task runs on and no inventory.img is left."""
    out = os.path.join(env.tmp, "killed.out")
    pid = env.start(out, "python3", "-c",
                    "import time\nb = bytearray(512 << 20)\nfor i in range(0, len(b), 4096): b[i] = 1\n"
                    "i = 0\nwhile True:\n    i += 1\n    print('step', i, flush=True)\n    time.sleep(0.05)\n")
    wait_lines(out, 2)
    d = os.path.join(env.tmp, "killed")
    os.makedirs(d)
    for delay in (0.05, 0.15, 0.3):
        p = subprocess.Popen([env.criu, "dump", "-t", str(pid), "-D", d, "-o", "dump.log"])
        time.sleep(delay)
        p.kill()
        p.wait()
        before = len(open(out).read().splitlines())
        end = time.time() + 5  # a busy machine may take a while to run it again
        while alive(pid) and len(open(out).read().splitlines()) <= before and time.time() < end:
            time.sleep(0.05)
        if not alive(pid) or len(open(out).read().splitlines()) <= before:
            raise Failure(f"task {pid} stopped running after criu was killed {delay} s into a dump")
        if os.path.exists(os.path.join(d, "inventory.img")):
            raise Failure("a killed dump left inventory.img")


def test_not_root(env):
    """criu run by another user says it needs root, and the task is left alone."""
    out = os.path.join(env.tmp, "nr.out")
    pid = env.start(out, env.mt_counter)
    wait_lines(out, 2)
    d = os.path.join(env.tmp, "nr")
    os.makedirs(d)
    os.chmod(env.tmp, 0o777)
    os.chmod(d, 0o777)
    for cmd in (["dump", "-t", str(pid)], ["restore"]):
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", env.criu, *cmd, "-D", d],
                           capture_output=True, text=True)
        if r.returncode == 0 or "root" not in r.stderr:
            raise Failure(f"criu {cmd[0]} as nobody: exit {r.returncode}, said: {r.stderr.strip()}")
    check_mt(out, len(open(out).read().splitlines()))


# A python3 whose children, made with clone(flags) for each of argv[1] (comma separated) on a
# ctypes stack each, sleep in pause() in its memory.
CLONE_VM_LOOP = """
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
pause = ctypes.cast(libc.pause, ctypes.c_void_p)
stacks, kids = [], []
for flags in sys.argv[1].split(','):
    stacks.append(ctypes.create_string_buffer(1 << 16))
    top = (ctypes.addressof(stacks[-1]) + (1 << 16)) & ~15
    kids.append(str(libc.clone(pause, ctypes.c_void_p(top), int(flags), None)))
open(sys.argv[2], 'w').write(' '.join(kids))
i = 0
while True:
    i += 1
    print('step', i, flush=True)
    time.sleep(0.05)
"""


def test_dump_clone_vm_refused(env):
    """Unsupported CLONE_VM children (no CLONE_SIGHAND, another exit signal, two with fd tables of
    their own, one with its own table beside a CLONE_FILES sibling, one dumped without its parent)
    are refused at dump, naming the tasks; all run on."""
    CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND = 0x100, 0x200, 0x400, 0x800
    own = CLONE_VM | CLONE_SIGHAND | CLONE_FS | signal.SIGCHLD  # an fd table of its own: supported alone
    cases = [([CLONE_VM | signal.SIGCHLD], "not their signal handlers (CLONE_SIGHAND)"),
             ([CLONE_VM | CLONE_SIGHAND | CLONE_FILES | CLONE_FS | signal.SIGUSR1], "its exit signal is 10"),
             ([own, own], "each with an fd table of its own"),
             ([own, CLONE_FILES | signal.SIGCHLD], "shares the parent's"),
             ([own], "which is not in the tree")]  # the child dumped alone
    for i, (flag_list, what) in enumerate(cases):
        out = os.path.join(env.tmp, f"vm{i}.out")
        pid = env.start(out, "python3", "-c", CLONE_VM_LOOP, ",".join(map(str, flag_list)), out + ".kid")
        wait_lines(out, 2)
        kids = [int(k) for k in open(out + ".kid").read().split()]
        env.pids.update(kids)
        if min(kids) <= 0:
            raise Failure(f"clone({flag_list}) failed in the test program")
        kid = kids[0]
        d = os.path.join(env.tmp, f"vm{i}")
        os.makedirs(d)
        root = kid if what == "which is not in the tree" else pid
        r = env.criu_run("dump", "-t", str(root), "-D", d, "-v4", "-o", "dump.log", check=False)
        log = open(os.path.join(d, "dump.log")).read()
        err = [l for l in log.splitlines() if "Error" in l and what in l and str(kid) in l and str(pid) in l]
        if r.returncode == 0 or not err:
            raise Failure(f"dump of clone({flag_list}) children: exit {r.returncode}, want a refusal naming "
                          f"{kid} and {pid} ({what}):\n" + "".join(log.splitlines(True)[-5:]))
        check_continues(out, len(open(out).read().splitlines()), r"step (\d+)$")
        for kid in kids:
            tracer = [l for l in open(f"/proc/{kid}/status").read().splitlines() if l.startswith("TracerPid:")]
            if state(kid) != "S" or tracer != ["TracerPid:\t0"]:
                raise Failure(f"the clone({flag_list}) child {kid} is not left sleeping: {state(kid)}, {tracer}")
        if os.path.exists(os.path.join(d, "inventory.img")):
            raise Failure("a refused dump left inventory.img")


EPOLL_NESTED = """
import os, select, sys, time
def sleeper():
    while True:
        time.sleep(1)
e2 = select.epoll()
if os.fork() == 0:
    sleeper()
if os.fork() == 0:
    e1 = select.epoll()
    e1.register(e2.fileno(), select.EPOLLIN)
    kids = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            sleeper()
        kids.append(str(pid))
    e1.close()
    open(sys.argv[1], 'w').write(' '.join(kids))
    sleeper()
e2.close()
i = 0
while True:
    i += 1
    print('step', i, flush=True)
    time.sleep(0.05)
"""


def refused_dump(env, pid, name, kids, what):
    """Dumps pid, which must be refused with an error naming kids and saying what."""
    d = os.path.join(env.tmp, name)
    os.makedirs(d)
    r = env.criu_run("dump", "-t", str(pid), "-D", d, "-v4", "-o", "dump.log", check=False)
    log = open(os.path.join(d, "dump.log")).read()
    err = [l for l in log.splitlines() if "Error" in l and what in l and all(str(k) in l for k in kids)]
    if r.returncode == 0 or not err:
        raise Failure(f"dump of {name}: exit {r.returncode}, want a refusal naming {kids}:\n" +
                      "".join(log.splitlines(True)[-5:]))
    if os.path.exists(os.path.join(d, "inventory.img")):
        raise Failure("a refused dump left inventory.img")


def test_dump_epoll_nested_handed_refused(env):
    """B makes an epoll E1 watching E2, an epoll it and its sibling A got from their parent, which
    closed it; B's two children hold E1, B closed it. E2 is made by A at restore and handed to the
    others, E1 by B's first child, which would have E2 only later: refused, naming the child and A."""
    out = os.path.join(env.tmp, "nested.out")
    pid = env.start(out, "python3", "-c", EPOLL_NESTED, out + ".kid")
    wait_lines(out, 2)
    kids = [int(k) for k in open(out + ".kid").read().split()]
    env.pids.update(kids)
    env.pids.update(int(k) for k in open(f"/proc/{pid}/task/{pid}/children").read().split())
    a = min(int(k) for k in open(f"/proc/{pid}/task/{pid}/children").read().split())
    refused_dump(env, pid, "nested", [kids[0], a], "held that way too")
    check_continues(out, len(open(out).read().splitlines()), r"step (\d+)$")


def test_clone_vm_python(env):
    """python3 with a CLONE_VM child (sharing its fd table and fs, then with its own, in two runs):
    dump --leave-running leaves all running, then an encrypted dump and restore brings them back
    sharing memory and handlers again, the interpreter going on."""
    CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND = 0x100, 0x200, 0x400, 0x800
    KCMP_VM, KCMP_FILES, KCMP_FS, KCMP_SIGHAND = 1, 2, 3, 4
    libc = ctypes.CDLL(None, use_errno=True)
    kcmp = lambda a, b, t: libc.syscall(312, a, b, t, 0, 0)  # noqa: E731 - SYS_kcmp on x86_64
    for i, share in enumerate((CLONE_FILES | CLONE_FS, 0)):
        flags = CLONE_VM | CLONE_SIGHAND | share | signal.SIGCHLD
        out = os.path.join(env.tmp, f"cvm{i}.out")
        pid = env.start(out, "python3", "-c", CLONE_VM_LOOP, str(flags), out + ".kid")
        wait_lines(out, 2)
        kid = int(open(out + ".kid").read())
        env.pids.add(kid)
        env.dump(pid, os.path.join(env.tmp, f"cvm{i}-r"), "-R")
        check_continues(out, len(open(out).read().splitlines()), r"step (\d+)$")
        d = os.path.join(env.tmp, f"cvm{i}")
        env.dump(pid, d, encrypt=True)
        before = len(open(out).read().splitlines())
        if env.restore(d, encrypt=True) != pid:
            raise Failure(f"python3 with a clone({flags:#x}) child was not restored as {pid}")
        check_continues(out, before, r"step (\d+)$")
        if state(kid) != "S" or kcmp(pid, kid, KCMP_VM) != 0 or kcmp(pid, kid, KCMP_SIGHAND) != 0:
            raise Failure(f"child {kid} is in state {state(kid)} or does not share memory and handlers with {pid}")
        for what, kind in (("fd table", KCMP_FILES), ("fs", KCMP_FS)):
            if (kcmp(pid, kid, kind) == 0) != bool(share):
                raise Failure(f"child {kid}: {what} shared is {kcmp(pid, kid, kind) == 0}, want {bool(share)}")


def test_restore_attached(env):
    """Without -d, criu restore waits for the task and exits with its status."""
    out = os.path.join(env.tmp, "att.out")
    pid = env.start(out, env.mt_counter)
    wait_lines(out, 2)
    d = os.path.join(env.tmp, "att")
    env.dump(pid, d)
    before = len(open(out).read().splitlines())
    criu = subprocess.Popen([env.criu, "restore", "-D", d, "-v4", "-o", "restore.log"])
    env.pids.add(criu.pid)
    env.pids.add(pid)
    check_mt(out, before)
    if criu.poll() is not None:
        raise Failure(f"criu restore exited ({criu.returncode}) while the task runs")
    os.kill(pid, signal.SIGTERM)
    rc = criu.wait(timeout=10)
    if rc != 128 + signal.SIGTERM:
        raise Failure(f"criu restore exited {rc} after the task was killed by SIGTERM, want {128 + signal.SIGTERM}")


TESTS = [test_python, test_python_encrypted, test_bash, test_bash_with_children, test_pipeline, test_pipeline_encrypted,
         test_mt, test_mt_encrypted, test_leave_running_twice,
         test_restore_pid_taken, test_restore_missing_image, test_restore_corrupt_core, test_dump_killed,
         test_not_root, test_restore_attached, test_dump_clone_vm_refused,
         test_clone_vm_python, test_dump_epoll_nested_handed_refused]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--criu", required=True)
    ap.add_argument("--mt-counter", required=True)
    ap.add_argument("--keygen", required=True)
    ap.add_argument("-k", dest="only", action="append", help="run only tests whose name contains this")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    return run_tests("e2e", TESTS, args, Env)


def run_tests(suite, tests, args, make_env):
    """Runs each scenario in a temporary directory of its own, cleaning up after it, pass or fail."""
    if os.geteuid() != 0:
        print(f"{suite}: must run as root")
        return 77
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    failed = passed = 0
    for t in tests:
        name = t.__name__[5:]
        if args.only and not any(o in name for o in args.only):
            continue
        tmp = tempfile.mkdtemp(prefix=f"criu-{suite}-{name}-")
        env = make_env(args, tmp)
        start = time.time()
        try:
            t(env)
            print(f"PASS {name} ({time.time() - start:.1f} s)", flush=True)
            passed += 1
        except Exception as e:  # noqa: BLE001 - report any failure of the scenario
            detail = str(e) if isinstance(e, Failure) else traceback.format_exc()
            print(f"FAIL {name} ({time.time() - start:.1f} s): {detail}", flush=True)
            failed += 1
        finally:
            env.cleanup()
            if not args.keep:
                shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
