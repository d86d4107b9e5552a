#!/usr/bin/env python3
"""End-to-end benchmark: criu dump and restore of a process holding incompressible memory,
plain, with --encrypt, and with the alternatives users have today (a plain dump whose images a
post-dump action script encrypts with openssl, gpg or age, decrypted again before restore).

usage: bench-e2e.py --criu PATH --victim PATH --keygen PATH [--quick] [--runs N] [--tool-runs N]
                    [--sizes MIB,..] [--tree TASKS] [--where shm,disk]

Workloads: bench-victim holding 1 GiB and 4 GiB (--quick: 1 GiB, 1 run), and a tree of --tree
processes (default 100; 0: none) holding 1 MiB each: a 4-ary tree, parents, children and
grandchildren, every task of which criu dumps and restores (compared with openssl and age; gpg,
at seconds per file, would take a quarter of an hour on its ~700 images). Images on tmpfs
(/dev/shm) and on disk (/var/tmp). Each cell is the median of --runs runs (default 3), except
that the external tools, 2-5x slower than criu and steady, run --tool-runs times (default 1)
to keep the whole run under 15 minutes on 2 CPUs (--tool-runs 3: about 18 minutes); the
table's "runs" column says how many, and a tool's ratios are to our figures of the same runs
(ext4 slows down from run to run as thousands of images come and go). The restored process of one method is the victim of the
next (same memory, no refill). criu's max RSS is the ru_maxrss wait4() reports for the criu
process (the larger of criu's own and its children's, the post-dump tools). Prints a markdown
table. Every process started or restored is killed by PID, and /proc/PID must be gone before
its PID is restored again. Runs as root."""
import argparse
import ctypes
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from e2e import descendants  # noqa: E402 - every process below a pid, zombies included

PR_SET_CHILD_SUBREAPER = 36
PASS = "criusec-bench-passphrase"
METHODS = ["plain", "encrypt", "openssl", "gpg", "age"]
TOOLS = METHODS[2:]
LOCATIONS = {"shm": "/dev/shm", "disk": "/var/tmp"}


class Failure(Exception):
    pass


def encrypt_cmd(tool, env):
    """Shell command encrypting "$f" into "$f.enc", as users would run it."""
    return {
        "openssl": f'openssl enc -aes-256-ctr -pbkdf2 -pass pass:{PASS} -in "$f" -out "$f.enc"',
        # gpg compresses by default: on incompressible pages that is ~15x slower, so
        # --compress-algo none is what anyone encrypting memory images would use.
        "gpg": f'gpg --batch --yes --quiet --pinentry-mode loopback --passphrase {PASS} '
               f'--compress-algo none --symmetric -o "$f.enc" "$f"',
        "age": f'age -r {env.age_recipient} -o "$f.enc" "$f"',
    }[tool]


def decrypt_cmd(tool, env):
    """Shell command decrypting "$f" (NAME.img.enc) back into NAME.img."""
    return {
        "openssl": f'openssl enc -d -aes-256-ctr -pbkdf2 -pass pass:{PASS} -in "$f" -out "${{f%.enc}}"',
        "gpg": f'gpg --batch --yes --quiet --pinentry-mode loopback --passphrase {PASS} -d -o "${{f%.enc}}" "$f"',
        "age": f'age -d -i {env.age_key} -o "${{f%.enc}}" "$f"',
    }[tool]


class Env:
    def __init__(self, args, tmp):
        self.args = args
        self.tmp = tmp
        self.pids = set()  # every process started or restored, killed by PID at the end
        pki = os.path.join(tmp, "pki")
        subprocess.run([args.keygen, "-d", pki], check=True, capture_output=True)
        self.cert = os.path.join(pki, "cert.pem")
        self.key = os.path.join(pki, "private", "key.pem")
        self.age_key = os.path.join(tmp, "age-key.txt")
        subprocess.run(["age-keygen", "-o", self.age_key], check=True, capture_output=True)
        self.age_recipient = subprocess.run(["age-keygen", "-y", self.age_key], check=True,
                                            capture_output=True, text=True).stdout.strip()
        os.environ["GNUPGHOME"] = os.path.join(tmp, "gnupg")
        os.mkdir(os.environ["GNUPGHOME"], 0o700)
        self.scripts = {}
        for tool in TOOLS:
            path = os.path.join(tmp, f"post-dump-{tool}.sh")
            with open(path, "w") as f:
                f.write("#!/bin/sh\n# post-dump: encrypt every image, then drop the plaintext\n"
                        'set -e\n[ "$CRTOOLS_SCRIPT_ACTION" = post-dump ] || exit 0\n'
                        'cd "$CRTOOLS_IMAGE_DIR"\n'
                        f'for f in *.img; do {encrypt_cmd(tool, self)}; rm -f "$f"; done\n')
            os.chmod(path, 0o755)
            self.scripts[tool] = path

    def start_victim(self, mib, tasks):
        ready = os.path.join(self.tmp, "victim.ready")
        if os.path.exists(ready):
            os.unlink(ready)
        p = subprocess.Popen([self.args.victim, str(mib), ready, str(tasks)], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.pids.add(p.pid)
        end = time.time() + 300
        while not os.path.exists(ready):
            if p.poll() is not None:
                raise Failure(f"bench-victim {mib} MiB exited with {p.returncode}")
            if time.time() > end:
                raise Failure("bench-victim not ready after 300 s")
            time.sleep(0.05)
        return p.pid

    def kill(self, pid):
        """Kills pid and every descendant it has, by PID, and reaps them."""
        tree = [pid] + descendants(pid)
        for p in tree:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for p in tree:
            reap(p)
            self.pids.discard(p)

    def cleanup(self):
        for pid in list(self.pids):
            self.kill(pid)


def reap(pid, timeout=60):
    """Reaps pid (our child, or reparented to us as subreaper) and waits until /proc/PID is gone."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        if not os.path.exists(f"/proc/{pid}"):
            return
        time.sleep(0.01)
    raise Failure(f"process {pid} did not go away")


def timed(argv, log):
    """Runs argv; (seconds, max RSS in MiB) from wait4. Raises on a non-zero exit."""
    with open(log, "ab") as out:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        _, status, ru = os.wait4(p.pid, 0)
        secs = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        tail = open(log, errors="replace").read()[-2000:]
        raise Failure(f"{' '.join(argv)} exited with {p.returncode}:\n{tail}")
    return secs, ru.ru_maxrss / 1024


def dump(env, pid, d, method):
    os.makedirs(d)
    tree = [pid] + descendants(pid)
    env.pids.update(tree)
    argv = [env.args.criu, "dump", "-t", str(pid), "-D", d, "-o", "dump.log"]
    if method == "encrypt":
        argv += ["--encrypt", "--tls-cert", env.cert]
    if method in TOOLS:
        argv += ["--action-script", env.scripts[method]]
    os.sync()
    r = timed(argv, os.path.join(d, "bench.out"))
    for p in tree:  # the dump killed them; the children come to us, the subreaper
        reap(p)
        env.pids.discard(p)
    return r


def decrypt(env, d, method):
    """The alternatives' restore-side step: every NAME.img.enc back to NAME.img."""
    if method not in TOOLS:
        return 0.0
    script = f'set -e; cd "{d}"; for f in *.img.enc; do {decrypt_cmd(method, env)}; rm -f "$f"; done'
    os.sync()
    secs, _ = timed(["/bin/sh", "-c", script], os.path.join(d, "bench.out"))
    return secs


def restore(env, d, method, pid, mib, tasks):
    pidfile = os.path.join(d, "restore.pid")
    argv = [env.args.criu, "restore", "-D", d, "-d", "-o", "restore.log", "--pidfile", pidfile]
    if method == "encrypt":
        argv += ["--tls-key", env.key]
    os.sync()
    secs, rss = timed(argv, os.path.join(d, "bench.out"))
    rpid = int(open(pidfile).read())
    env.pids.add(rpid)
    if rpid != pid:
        raise Failure(f"{method}: restored as {rpid}, not {pid}")
    tree = descendants(rpid)
    env.pids.update(tree)
    if len(tree) != tasks - 1:
        raise Failure(f"{method}: restored tree of {rpid} has {len(tree) + 1} tasks, not {tasks}")
    vmrss = next(int(l.split()[1]) for l in open(f"/proc/{rpid}/status") if l.startswith("VmRSS:"))
    if vmrss < mib * 1024:
        raise Failure(f"{method}: restored task {rpid} holds {vmrss} KiB, expected {mib} MiB")
    return secs, rss


def one_run(env, load, where, run, results, methods):
    """Each method once, each on the process (tree) the previous one restored."""
    mib, tasks = load
    base = tempfile.mkdtemp(prefix="criusec-bench.", dir=LOCATIONS[where])
    try:
        pid = env.start_victim(mib, tasks)
        for method in methods:
            d = os.path.join(base, method)
            dsec, drss = dump(env, pid, d, method)
            dec = decrypt(env, d, method)
            rsec, rrss = restore(env, d, method, pid, mib, tasks)
            cell = results.setdefault((load, where, method), [])
            cell.append(dict(run=run, dump=dsec, decrypt=dec, restore=rsec + dec, dump_rss=drss, restore_rss=rrss))
            print(f"  {load_name(load)} {where:4} run {run + 1} {method:7}: dump {dsec:6.2f} s, "
                  f"restore {rsec + dec:6.2f} s (decrypt {dec:5.2f}), max RSS {drss:.0f}/{rrss:.0f} MiB",
                  flush=True)
            shutil.rmtree(d)
        env.kill(pid)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def load_name(load):
    mib, tasks = load
    size = f"{mib // 1024} GiB" if mib % 1024 == 0 else f"{mib} MiB"
    return size if tasks == 1 else f"{tasks} tasks x {size}"


def med(cells, key):
    return statistics.median(c[key] for c in cells)


def ratio(a, b):
    return f"{a / b:.2f}x" if b > 0 else "-"


def same_runs(cells, ref):
    """The cells of ref from the runs cells come from: the tools run in the first --tool-runs
    runs only, and later runs can differ (ext4 slows down as a run creates and deletes
    thousands of images), so a tool is set against our figures of its own runs."""
    runs = {c["run"] for c in cells}
    return [c for c in ref if c["run"] in runs] or ref


def table(results, loads, wheres, runs):
    print(f"\n### criu dump/restore, {runs} run(s) each, median; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs; a tool's ratios use our figures of the runs it ran in\n")
    print("| memory | images on | method | runs | dump (s) | restore (s) | dump vs plain | restore vs plain "
          "| dump vs our --encrypt | restore vs our --encrypt | criu max RSS dump / restore (MiB) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for load in loads:
        for where in wheres:
            r = {m: results[(load, where, m)] for m in METHODS if (load, where, m) in results}
            for m in r:
                plain, enc = same_runs(r[m], r["plain"]), same_runs(r[m], r["encrypt"])
                plain_d, plain_r = med(plain, "dump"), med(plain, "restore")
                enc_d, enc_r = med(enc, "dump"), med(enc, "restore")
                d, rs = med(r[m], "dump"), med(r[m], "restore")
                name = {"plain": "plain", "encrypt": "--encrypt"}.get(m, f"plain + {m} (post-dump)")
                restore = f"{rs:.2f}" + (f" (decrypt {med(r[m], 'decrypt'):.2f})" if m in TOOLS else "")
                vs_enc = (ratio(d, enc_d), ratio(rs, enc_r)) if m in TOOLS else ("", "")
                print(f"| {load_name(load)} | {where} ({LOCATIONS[where]}) | {name} | {len(r[m])} | {d:.2f} | {restore} "
                      f"| {ratio(d, plain_d)} | {ratio(rs, plain_r)} | {vs_enc[0]} | {vs_enc[1]} "
                      f"| {med(r[m], 'dump_rss'):.0f} / {med(r[m], 'restore_rss'):.0f} |")


def methods_for(load, with_tools):
    """gpg takes seconds per image file (its agent): on the tree's ~700 small images that is
    a quarter of an hour, so the tree compares against openssl and age only."""
    if not with_tools:
        return METHODS[:2]
    return [m for m in METHODS if not (m == "gpg" and load[1] > 1)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--criu", required=True)
    ap.add_argument("--victim", required=True)
    ap.add_argument("--keygen", required=True)
    ap.add_argument("--quick", action="store_true", help="1 GiB only, 1 run")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--tool-runs", type=int, default=1, help="runs of the openssl/gpg/age rows (default 1)")
    ap.add_argument("--sizes", help="MiB, comma-separated (default 1024,4096)")
    ap.add_argument("--tree", type=int, default=100, help="tasks of the tree workload, 1 MiB each (0: none)")
    ap.add_argument("--where", default="shm,disk", help="shm,disk")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench-e2e: must run as root", file=sys.stderr)
        return 1
    for tool in ("openssl", "gpg", "age", "age-keygen"):
        if not shutil.which(tool):
            print(f"bench-e2e: {tool} is missing (contrib/install-deps.sh installs it)", file=sys.stderr)
            return 1
    sizes = args.sizes if args.sizes is not None else ("1024" if args.quick else "1024,4096")
    sizes = [int(s) for s in sizes.split(",") if s]
    loads = [(mib, 1) for mib in sizes] + ([(1, args.tree)] if args.tree > 0 else [])
    runs = args.runs or (1 if args.quick else 3)
    tool_runs = min(runs, args.tool_runs)
    wheres = args.where.split(",")
    # Restored tasks (criu restore -d) become our children, so we reap them at once.
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("bench-e2e: can't become a child subreaper", file=sys.stderr)
        return 1

    tmp = tempfile.mkdtemp(prefix="criusec-bench-env.")
    env = Env(args, tmp)
    results = {}
    start = time.monotonic()
    try:
        for run in range(runs):
            for load in loads:
                for where in wheres:
                    one_run(env, load, where, run, results, methods_for(load, run < tool_runs))
    except Failure as e:
        print(f"bench-e2e: FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        env.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    table(results, loads, wheres, runs)
    print(f"\n(total {time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
