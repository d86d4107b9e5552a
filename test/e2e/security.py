#!/usr/bin/env python3
"""End-to-end security tests of sealed (encrypted) checkpoints.

usage: security.py --criu PATH --crit PATH --canary PATH --keygen PATH [-k NAME] [--keep]

Scenarios, each on real processes through the real criu (as root):
  canary    no plaintext of a secret held in heap, static, thread stack, unlinked file and shared
            memory reaches the disk on a sealed dump or its restore; a plain dump does hold it
  tamper    one bit flipped anywhere in any image is refused, naming the image, nothing runs
  moved     swapped pages, pages from an earlier dump, renamed/swapped images, records dropped,
            duplicated or reordered, truncated images: all refused
  keys      wrong private key, missing key file, missing or corrupt cipher.img: refused clearly
  config    "encrypt" in a --config file seals the dump; restore with the key works
  crit      crit decodes a sealed image with the key and refuses clearly without it
Every process started or restored is killed by PID at the end, pass or fail."""
import argparse
import base64
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402 - the lead's runner: process helpers
from e2e import Failure, reap, wait_lines  # noqa: E402

PAGE = 4096
VERBOSE = False
TICK = r"tick (\d+) ([0-9a-f]{16}) (ok|BROKEN)$"


class Env(e2e.Env):
    def __init__(self, args, tmp):
        super().__init__(args, tmp)
        self.crit = args.crit
        self.canary_bin = args.canary
        self._pki2 = None

    def pki2(self):
        """A second, unrelated PKI: the 'wrong key'."""
        if not self._pki2:
            self._pki2 = os.path.join(self.tmp, "pki2")
            subprocess.run([self.keygen, "-d", self._pki2], check=True, capture_output=True)
        return self._pki2

    def key(self, pki=None):
        return os.path.join(pki or self.pki(), "private", "key.pem")

    def start_canary(self, name):
        """Starts the victim; the canary goes through a pipe on its stdin, never to disk."""
        canary = os.urandom(32)
        out = os.path.join(self.tmp, name + ".out")
        p = subprocess.Popen([self.canary_bin, self.tmp], stdin=subprocess.PIPE, stdout=open(out, "w"),
                             stderr=subprocess.STDOUT, close_fds=True, start_new_session=True)
        self.pids.add(p.pid)
        p.stdin.write(canary)
        p.stdin.close()
        lines = wait_lines(out, 3)
        check_ticks(lines, canary)
        # the stdin pipe (the canary's way in) must be closed; the victim's own pipe is at fd 100+
        fds = [fd for fd in os.listdir(f"/proc/{p.pid}/fd") if int(fd) < 100]
        if any(os.readlink(f"/proc/{p.pid}/fd/{fd}").startswith("pipe:") for fd in fds):
            raise Failure("the victim kept its stdin pipe open")
        return p.pid, out, canary

    def restore_with(self, d, *extra, pidfile=None):
        """criu restore with extra arguments; returns the CompletedProcess (restored PID recorded)."""
        pidfile = pidfile or os.path.join(d, "restore.pid")
        if os.path.exists(pidfile):
            os.unlink(pidfile)
        r = subprocess.run([self.criu, "restore", "-D", d, "-d", "-v4", "-o", "restore.log", "--pidfile", pidfile,
                            *extra], capture_output=True, text=True)
        if os.path.exists(pidfile):
            try:
                self.pids.add(int(open(pidfile).read()))
            except ValueError:
                pass
        return r


def fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def check_ticks(lines, canary):
    want = fnv1a(canary)
    for l in lines:
        m = re.match(TICK, l)
        if not m:
            raise Failure(f"victim printed an unexpected line: {l!r}")
        if m.group(2) != want or m.group(3) != "ok":
            raise Failure(f"victim's canary changed or a copy differs: {l!r} (want hash {want})")


# Scanning for plaintext ----------------------------------------------------------------------

def forms(canary):
    """The canary and the textual forms a careless writer (log, JSON, debug dump) would use."""
    return {
        "raw": canary,
        "hex": canary.hex().encode(),
        "HEX": canary.hex().upper().encode(),
        "base64": base64.b64encode(canary),
        "base64url": base64.urlsafe_b64encode(canary),
        "base64-nopad": base64.b64encode(canary).rstrip(b"="),
        "raw-half": canary[:16],  # a copy cut by a boundary still leaks half
    }


def scan_file(path, pats):
    """Occurrences of each pattern in the file, read in overlapping chunks."""
    found = {}
    overlap = max(len(p) for p in pats.values()) - 1
    try:
        f = open(path, "rb")
    except OSError:
        return found
    with f:
        prev, off = b"", 0
        while True:
            chunk = f.read(4 << 20)
            if not chunk:
                break
            buf = prev + chunk
            base = off - len(prev)
            for name, p in pats.items():
                i = buf.find(p)
                while i >= 0:
                    if i + len(p) > len(prev):  # not already counted in the previous chunk
                        found.setdefault(name, []).append(base + i)
                    i = buf.find(p, i + 1)
            off += len(chunk)
            prev = buf[-overlap:] if overlap else b""
    return found


def scan(roots, canary, since):
    """{path: {form: [offsets]}} for regular files under roots (those under /tmp and /dev/shm
    only when changed since `since`)."""
    pats = forms(canary)
    hits = {}
    seen = set()
    for root, recent_only in roots:
        for dirpath, dirs, files in os.walk(root):
            for fn in files:
                p = os.path.join(dirpath, fn)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                if not os.path.isfile(p) or os.path.islink(p) or (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
                if recent_only and max(st.st_mtime, st.st_ctime) < since:
                    continue
                f = scan_file(p, pats)
                if f:
                    hits[p] = f
    return hits


def check_all_sealed(d):
    """Every image but cipher.img and the pages images starts with its magic(s) and a seal header."""
    for f in sorted(os.listdir(d)):
        if f.endswith(".log") or f.endswith(".pid") or f == "cipher.img" or f.startswith("pages-"):
            continue
        head = open(os.path.join(d, f), "rb").read(24)
        if head[4:8] != b"CRSL" and head[8:12] != b"CRSL":
            raise Failure(f"{f} in a sealed directory has no seal header: {head.hex()}")


def describe(hits):
    return "\n".join(f"  {p}: " + ", ".join(f"{k} at {v[:4]}" for k, v in f.items()) for p, f in hits.items())


def scan_roots(env, d):
    return [(d, False), (env.tmp, False), ("/tmp", True), ("/dev/shm", True), (os.getcwd(), True)]


def test_canary(env):
    since = time.time() - 1
    pid, out, canary = env.start_canary("canary")
    d = os.path.join(env.tmp, "sealed")
    env.dump(pid, d, encrypt=True)
    if not os.path.exists(os.path.join(d, "cipher.img")):
        raise Failure("sealed dump wrote no cipher.img")
    check_all_sealed(d)
    hits = scan(scan_roots(env, d), canary, since)
    if hits:
        raise Failure("plaintext of the canary on disk after a sealed dump:\n" + describe(hits))
    before = len(open(out).read().splitlines())
    rpid = env.restore(d, encrypt=True)
    if rpid != pid:
        raise Failure(f"restored as {rpid}, not {pid}")
    hits = scan(scan_roots(env, d), canary, since)
    if hits:
        raise Failure("plaintext of the canary on disk after restoring a sealed dump:\n" + describe(hits))
    check_all_sealed(d)  # also what restore wrote (stats-restore)
    lines = wait_lines(out, before + 5)
    check_ticks(lines, canary)  # all five copies are back and equal to the canary
    # A plain dump of the same process must show the canary to this scan: the scan works.
    p = os.path.join(env.tmp, "plain")
    env.dump(pid, p, "-R")
    hits = scan([(p, False)], canary, since)
    raw = sum(len(f.get("raw", [])) for f in hits.values())
    where = {re.sub(r"-\d+\.img$", "", os.path.basename(h)) for h, f in hits.items() if "raw" in f}
    if VERBOSE:
        print("  plain dump:\n" + describe(hits), flush=True)
    # heap, static and stack in the task's pages, the file in its ghost image, the shared memory
    # in a pages image of its own, the pipe's buffer in pipes-data.img
    if raw < 6 or len([h for h in hits if os.path.basename(h).startswith("pages-")]) < 2 or \
            "ghost-file" not in where or not any(os.path.basename(h) == "pipes-data.img" for h in hits):
        raise Failure(f"the scan finds the canary only {raw} times in a plain dump (want >= 6: in the task's"
                      " and the shared memory's pages images, the ghost file image and pipes-data.img):\n"
                      + describe(hits))


# Tampering -----------------------------------------------------------------------------------

def images(d):
    """Every image file of a dump: restore authenticates those it does not otherwise read too."""
    return sorted(f for f in os.listdir(d) if f.endswith(".img") or f in ("stats-dump", "stats-restore"))


def flip(path, off, bit):
    with open(path, "r+b") as f:
        f.seek(off)
        b = f.read(1)[0]
        f.seek(off)
        f.write(bytes([b ^ (1 << bit)]))


def error_lines(d):
    try:
        return [l for l in open(os.path.join(d, "restore.log")).read().splitlines() if "Error" in l]
    except OSError:
        return []


class Refusals:
    """Runs restores that must fail and collects every violation, to report them all at once."""

    def __init__(self, env, pid, out, pristine):
        self.env, self.pid, self.out, self.pristine = env, pid, out, pristine
        self.out_bytes = open(out, "rb").read()
        self.problems = []
        self.trials = 0

    def trial(self, what, mutate, names, key=None, extra=()):
        """Copies the pristine dump, mutates it, restores: must fail naming one of `names`."""
        self.trials += 1
        d = os.path.join(self.env.tmp, "trial")
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(self.pristine, d, symlinks=True)
        mutate(d)
        args = list(extra) if key is None else ["--tls-key", key, *extra]
        kids = children()
        r = self.env.restore_with(d, *args)
        time.sleep(0.03)
        stray = children() - kids
        if r.returncode != 0 and stray:
            self.problems.append(f"{what}: processes {sorted(stray)} were left behind by a refused restore")
            for p in stray:
                self.env.pids.add(p)
                kill(p)
        errs = error_lines(d)
        if VERBOSE:
            print(f"  {what}: exit {r.returncode}: {(errs or [r.stderr.strip()])[-1][:200]}", flush=True)
        if r.returncode == 0:
            self.problems.append(f"{what}: restore ACCEPTED it (exit 0)")
        elif names and not any(n in l for l in errs for n in names):
            self.problems.append(f"{what}: the error does not name {' or '.join(names)}:\n    "
                                 + "\n    ".join(errs[-3:] or [r.stderr.strip()[-300:]]))
        if e2e.alive(self.pid) or os.path.exists(f"/proc/{self.pid}"):
            self.problems.append(f"{what}: a process {self.pid} exists after the restore")
            kill(self.pid)
        if open(self.out, "rb").read() != self.out_bytes:
            self.problems.append(f"{what}: the victim ran restored code (its output file changed)")
            with open(self.out, "wb") as f:
                f.write(self.out_bytes)
        return errs

    def check(self):
        if self.problems:
            raise Failure(f"{len(self.problems)} of {self.trials} bad restores were not refused properly:\n"
                          + "\n".join(self.problems))


def children():
    """Our children (as a subreaper, restored tasks whose criu exited are ours)."""
    out = set()
    for t in os.listdir("/proc/self/task"):
        try:
            out |= {int(p) for p in open(f"/proc/self/task/{t}/children").read().split()}
        except OSError:
            pass
    return out


def kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    reap(pid)


def sealed_dump(env, name, *extra):
    pid, out, canary = env.start_canary(name)
    d = os.path.join(env.tmp, name)
    env.dump(pid, d, *extra, encrypt=True)
    time.sleep(0.05)
    return pid, out, canary, d


def restore_pristine(env, pid, out, canary, d):
    before = len(open(out).read().splitlines())
    rpid = env.restore(d, encrypt=True)
    if rpid != pid:
        raise Failure(f"the pristine dump restored as {rpid}, not {pid}")
    check_ticks(wait_lines(out, before + 3), canary)


def test_tamper(env):
    pid, out, canary, d = sealed_dump(env, "tamper")
    ref = Refusals(env, pid, out, d)
    key = env.key()
    for img in images(d):
        size = os.path.getsize(os.path.join(d, img))
        offs = {0: 0, size // 2: 4, size - 1: 7}
        if img.startswith("pages-"):
            n = size // PAGE
            for k, i in enumerate(sorted({0, 1, n // 3, n // 2, n - 1} & set(range(n)))):
                offs[i * PAGE + (k * 977 + 100) % PAGE] = k % 8
        names = [img] + (["cipher.img"] if img == "cipher.img" else [])
        if img.startswith("pages-"):  # a page's tag does not match: the tags image may be named
            names.append("pagetags-" + img[len("pages-"):])
        for off, bit in sorted(offs.items()):
            ref.trial(f"{img} byte {off} bit {bit}", lambda t, img=img, off=off, bit=bit:
                      flip(os.path.join(t, img), off, bit), names, key=key)
    ref.check()
    restore_pristine(env, pid, out, canary, d)


# Moved, swapped, replayed and truncated data -------------------------------------------------

def seal_layout(path):
    """(offset of the first record, [(offset, total length) of each record]) of a sealed image."""
    data = open(path, "rb").read()
    h = data.find(b"CRSL", 0, 16)
    if h < 0:
        raise Failure(f"{path} has no seal header")
    off, recs = h + 16, []
    while off + 4 <= len(data):
        n = struct.unpack_from("<I", data, off)[0] & 0x0FFFFFFF
        recs.append((off, 4 + n))
        off += 4 + n
    return h + 16, recs


def edit_records(path, fn):
    data = open(path, "rb").read()
    start, recs = seal_layout(path)
    parts = [data[o:o + n] for o, n in recs]
    open(path, "wb").write(data[:start] + b"".join(fn(parts)))


def swap_files(d, a, b):
    pa, pb = os.path.join(d, a), os.path.join(d, b)
    os.rename(pa, pa + ".x")
    os.rename(pb, pa)
    os.rename(pa + ".x", pb)


def swap_pages(path, i, j):
    with open(path, "r+b") as f:
        f.seek(i * PAGE)
        a = f.read(PAGE)
        f.seek(j * PAGE)
        b = f.read(PAGE)
        f.seek(i * PAGE)
        f.write(b)
        f.seek(j * PAGE)
        f.write(a)


def truncate(path, size):
    os.truncate(path, size)


def test_moved(env):
    pid, out, canary = env.start_canary("moved")
    early = os.path.join(env.tmp, "early")
    env.dump(pid, early, "-R", encrypt=True)
    time.sleep(0.1)
    d = os.path.join(env.tmp, "moved")
    env.dump(pid, d, encrypt=True)
    time.sleep(0.05)
    tid = next(int(f[5:-4]) for f in os.listdir(d) if re.match(r"core-\d+\.img$", f) and f != f"core-{pid}.img")
    pages = sorted(f for f in os.listdir(d) if re.match(r"pages-\d+\.img$", f))
    ref = Refusals(env, pid, out, d)
    key = env.key()
    p1 = "pages-1.img"
    n = os.path.getsize(os.path.join(d, p1)) // PAGE
    cp = lambda src, name: (lambda t: shutil.copyfile(os.path.join(src, name), os.path.join(t, name)))
    ref.trial("pages 0 and 1 of pages-1.img swapped", lambda t: swap_pages(os.path.join(t, p1), 0, 1),
              ["pages-1.img", "pagetags-1.img"], key=key)
    ref.trial(f"pages 1 and {n - 1} of pages-1.img swapped", lambda t: swap_pages(os.path.join(t, p1), 1, n - 1),
              ["pages-1.img", "pagetags-1.img"], key=key)
    ref.trial("pages-1.img from an earlier dump", cp(early, p1), ["pages-1.img", "pagetags-1.img"], key=key)
    ref.trial("pages-1.img and pagetags-1.img from an earlier dump",
              lambda t: (cp(early, p1)(t), cp(early, "pagetags-1.img")(t)), ["pages-1.img", "pagetags-1.img"],
              key=key)
    for img in (f"core-{pid}.img", f"mm-{pid}.img", f"pagemap-{pid}.img", "files.img", "cipher.img"):
        # An earlier cipher.img is authentic by itself: the first image read must then fail.
        ref.trial(f"{img} from an earlier dump", cp(early, img), [img] if img != "cipher.img" else [".img"],
                  key=key)
    ref.trial(f"core-{pid}.img and core-{tid}.img swapped", lambda t: swap_files(t, f"core-{pid}.img",
              f"core-{tid}.img"), [f"core-{pid}.img", f"core-{tid}.img"], key=key)
    if len(pages) >= 2:
        a, b = ("pagetags-" + p[6:] for p in pages[:2])
        ref.trial(f"{a} and {b} swapped", lambda t: swap_files(t, a, b), [a, b, pages[0], pages[1]], key=key)
    ref.trial(f"mm-{pid}.img moved to mm-{pid + 1}.img, the earlier dump's mm in its place",
              lambda t: (os.rename(os.path.join(t, f"mm-{pid}.img"), os.path.join(t, f"mm-{pid + 1}.img")),
                         cp(early, f"mm-{pid}.img")(t)), [f"mm-{pid}.img"], key=key)
    # record-level edits of multi-record sealed images
    for img in (f"core-{pid}.img", f"mm-{pid}.img", f"pagemap-{pid}.img", "files.img", "pagetags-1.img"):
        nrec = len(seal_layout(os.path.join(d, img))[1])
        path = lambda t, img=img: os.path.join(t, img)
        ref.trial(f"{img}: end record dropped", lambda t, p=path: edit_records(p(t), lambda r: r[:-1]), [img],
                  key=key)
        ref.trial(f"{img}: first record duplicated", lambda t, p=path: edit_records(p(t), lambda r: r[:1] + r),
                  [img], key=key)
        if nrec >= 3:
            ref.trial(f"{img}: records 0 and 1 swapped",
                      lambda t, p=path: edit_records(p(t), lambda r: [r[1], r[0]] + r[2:]), [img], key=key)
            ref.trial(f"{img}: record 1 dropped",
                      lambda t, p=path: edit_records(p(t), lambda r: r[:1] + r[2:]), [img], key=key)
        ref.trial(f"{img}: a record from {img} of the earlier dump",
                  lambda t, p=path, img=img: edit_records(
                      p(t), lambda r: [open_records(os.path.join(early, img))[0]] + r[1:]), [img], key=key)
    # truncation
    for img in images(d):
        size = os.path.getsize(os.path.join(d, img))
        cuts = {size - 1, size // 2}
        if img.startswith("pages-"):
            cuts.add(size - PAGE)
        else:
            start, recs = seal_layout(os.path.join(d, img)) if img != "cipher.img" else (0, [])
            if recs:
                cuts.add(start)  # header only, no records
                cuts.add(recs[-1][0])  # no end record
        for c in sorted(cuts):
            ref.trial(f"{img} truncated to {c} of {size} bytes",
                      lambda t, img=img, c=c: truncate(os.path.join(t, img), c), [img] + (
                          ["pagetags-" + img[6:]] if img.startswith("pages-") else []), key=key)
    ref.check()
    restore_pristine(env, pid, out, canary, d)


def open_records(path):
    data = open(path, "rb").read()
    return [data[o:o + n] for o, n in seal_layout(path)[1]]


# Keys ----------------------------------------------------------------------------------------

def test_keys(env):
    pid, out, canary, d = sealed_dump(env, "keys")
    ref = Refusals(env, pid, out, d)
    nothing = lambda t: None
    errs = ref.trial("the wrong private key", nothing, None, key=env.key(env.pki2()))
    if not any(re.search(r"key|cipher\.img", l, re.I) for l in errs):
        ref.problems.append("wrong key: the error does not mention the key:\n    " + "\n    ".join(errs[-3:]))
    missing = os.path.join(env.tmp, "no-such-dir", "key.pem")
    ref.trial("a missing key file", nothing, [missing], key=missing)
    errs = ref.trial("no cipher.img", lambda t: os.unlink(os.path.join(t, "cipher.img")), ["cipher.img"],
                     key=env.key())
    if not any("no cipher.img" in l for l in errs):
        ref.problems.append("no cipher.img: the error does not say 'no cipher.img':\n    " + "\n    ".join(errs[-3:]))
    cipher = lambda t: os.path.join(t, "cipher.img")
    ref.trial("cipher.img emptied", lambda t: truncate(cipher(t), 0), ["cipher.img"], key=env.key())
    ref.trial("cipher.img full of garbage", lambda t: open(cipher(t), "wb").write(os.urandom(512)),
              ["cipher.img"], key=env.key())
    ref.trial("cipher.img with a bit flipped at byte 30",
              lambda t: flip(cipher(t), 30, 2), ["cipher.img"], key=env.key())
    ref.trial("no key given (default /etc/pki/criu key absent or wrong)", nothing, None)
    ref.check()
    restore_pristine(env, pid, out, canary, d)
    # Sealed for two certificates: either private key opens it.
    d2 = os.path.join(env.tmp, "two-certs")
    env.dump(pid, d2, "--tls-cert", os.path.join(env.pki2(), "cert.pem"), encrypt=True)
    dumped = open(out, "rb").read()
    for pki in (env.pki2(), env.pki()):
        kill(pid)
        with open(out, "wb") as f:  # as it was at dump time (criu checks the size)
            f.write(dumped)
        t2 = os.path.join(env.tmp, "t2")
        shutil.rmtree(t2, ignore_errors=True)
        shutil.copytree(d2, t2)
        r = env.restore_with(t2, "--tls-key", env.key(pki))
        if r.returncode != 0:
            raise Failure(f"a dump sealed for two certificates does not restore with {env.key(pki)}:\n"
                          + "\n".join(error_lines(t2)[-3:]))
        check_ticks(wait_lines(out, len(dumped.splitlines()) + 3), canary)


# Config file ---------------------------------------------------------------------------------

def crit_run(env, *argv):
    return subprocess.run([env.crit, *argv], capture_output=True, text=True)


def test_config(env):
    pid, out, canary = env.start_canary("config")
    conf = os.path.join(env.tmp, "criu.conf")
    with open(conf, "w") as f:
        f.write(f"# sealed dumps\nencrypt\ntls-cert {os.path.join(env.pki(), 'cert.pem')}\n")
    d = os.path.join(env.tmp, "config")
    os.makedirs(d)
    env.criu_run("dump", "-t", str(pid), "-D", d, "-v4", "-o", "dump.log", "--config", conf)
    reap(pid)
    if not os.path.exists(os.path.join(d, "cipher.img")):
        raise Failure("'encrypt' in a --config file did not seal the dump: no cipher.img")
    for img in images(d):
        if img.startswith("pages-") or img == "cipher.img":
            continue
        r = crit_run(env, "decode", "-i", os.path.join(d, img))
        if r.returncode == 0 or "seal" not in (r.stdout + r.stderr).lower():
            raise Failure(f"crit without a key on {img}: exit {r.returncode}, does not say sealed:\n"
                          f"{(r.stdout + r.stderr)[-400:]}")
    hits = scan([(d, False)], canary, 0)
    if hits:
        raise Failure("plaintext of the canary in a dump sealed by the config file:\n" + describe(hits))
    restore_pristine(env, pid, out, canary, d)


# crit ----------------------------------------------------------------------------------------

def test_crit(env):
    pid, out, canary, d = sealed_dump(env, "crit")
    core = os.path.join(d, f"core-{pid}.img")
    r = crit_run(env, "decode", "-i", core, "--tls-key", env.key())
    if r.returncode != 0 or '"magic"' not in r.stdout or "CORE" not in r.stdout:
        raise Failure(f"crit decode --tls-key of a sealed core: exit {r.returncode}:\n{(r.stdout + r.stderr)[-600:]}")
    r = crit_run(env, "decode", "-i", core)
    msg = (r.stdout + r.stderr).strip()
    if r.returncode == 0 or "seal" not in msg.lower() or not msg:
        raise Failure(f"crit decode of a sealed core without a key: exit {r.returncode}, message {msg[-400:]!r}")
    r = crit_run(env, "decode", "-i", core, "--tls-key", env.key(env.pki2()))
    if r.returncode == 0 or not re.search(r"key", r.stdout + r.stderr, re.I):
        raise Failure(f"crit decode with the wrong key: exit {r.returncode}: {(r.stdout + r.stderr)[-400:]!r}")
    t = os.path.join(env.tmp, "crit-tampered")
    shutil.copytree(d, t)
    flip(os.path.join(t, f"core-{pid}.img"), os.path.getsize(core) // 2, 3)
    r = crit_run(env, "decode", "-i", os.path.join(t, f"core-{pid}.img"), "--tls-key", env.key())
    if r.returncode == 0 or f"core-{pid}.img" not in r.stdout + r.stderr:
        raise Failure(f"crit decode of a tampered core: exit {r.returncode}: {(r.stdout + r.stderr)[-400:]!r}")
    # Every image, also those restore never reads (stats-dump), is refused by crit once changed.
    bad = []
    for img in sorted(os.listdir(d)):
        if img.startswith("pages-") or img.endswith(".log") or img == "cipher.img":
            continue
        shutil.rmtree(t)
        shutil.copytree(d, t)
        flip(os.path.join(t, img), os.path.getsize(os.path.join(d, img)) // 2, 5)
        r = crit_run(env, "decode", "-i", os.path.join(t, img), "--tls-key", env.key())
        if r.returncode == 0 or img not in r.stdout + r.stderr:
            bad.append(f"{img}: exit {r.returncode}: {(r.stdout + r.stderr).strip()[-200:]!r}")
    if bad:
        raise Failure("crit decode accepts tampered images or does not name them:\n" + "\n".join(bad))
    restore_pristine(env, pid, out, canary, d)


TESTS = [test_canary, test_tamper, test_moved, test_keys, test_config, test_crit]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--criu", required=True)
    ap.add_argument("--crit", required=True)
    ap.add_argument("--canary", required=True)
    ap.add_argument("--keygen", required=True)
    ap.add_argument("--mt-counter", default=None)
    ap.add_argument("-k", dest="only", action="append", help="run only tests whose name contains this")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("-v", dest="verbose", action="store_true", help="print every refused restore's error")
    args = ap.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    return e2e.run_tests("sec", TESTS, args, Env)


if __name__ == "__main__":
    sys.exit(main())
