#!/usr/bin/env python3
"""End-to-end tests of criu on real services.

usage: services.py --criu PATH --keygen PATH [-k NAME] [--keep]

Scenarios, each on real processes through the real criu (as root), on loopback ports the
kernel picked:
  redis       Debian's redis-server (several threads, epoll, a TCP listener) holding 100,000
              keys is dumped with --encrypt: no key or value is readable in any image; after
              restore every key reads back over a new connection
  http        a python3 HTTP/1.1 server with a keep-alive client connection (the test itself is
              the client) is dumped and restored with --tcp-established (and --encrypt); the
              same connection then gets the next answers, and new connections work too
Every process started or restored is killed by PID at the end, pass or fail."""
import argparse
import http.client
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402 - process helpers and the runner
from e2e import Failure  # noqa: E402

KEYS = 100_000


class Env(e2e.Env):
    def __init__(self, args, tmp):
        args.mt_counter = None
        super().__init__(args, tmp)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, pid, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if not e2e.alive(pid):
            raise Failure(f"process {pid} died before listening on port {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise Failure(f"nothing listens on port {port} after {timeout} s")


# A minimal RESP client: pipelined commands, one reply each.

def resp_command(*words):
    out = [f"*{len(words)}\r\n".encode()]
    for w in words:
        b = w if isinstance(w, bytes) else str(w).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


class Resp:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def close(self):
        self.sock.close()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise Failure("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _bulk(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise Failure("redis closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return rest
        if kind == b"-":
            raise Failure(f"redis error: {rest.decode(errors='replace')}")
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._bulk(n)
        if kind == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise Failure(f"bad redis reply {line!r}")

    def pipeline(self, commands):
        self.sock.sendall(b"".join(commands))
        return [self.reply() for _ in commands]


def redis_pairs(token):
    return [(f"user:{token}:{i}".encode(), f"session-{token}-{i}-{i * 7919 % 100003}".encode()) for i in range(KEYS)]


def load_keys(port, pairs):
    r = Resp(port)
    try:
        for i in range(0, len(pairs), 5000):
            r.pipeline([resp_command("SET", k, v) for k, v in pairs[i:i + 5000]])
        size = int(r.pipeline([resp_command("DBSIZE")])[0])
    finally:
        r.close()
    if size != len(pairs):
        raise Failure(f"redis holds {size} keys after loading {len(pairs)}")


def check_keys(port, pairs):
    r = Resp(port)
    try:
        size = int(r.pipeline([resp_command("DBSIZE")])[0])
        if size != len(pairs):
            raise Failure(f"redis holds {size} keys after restore, not {len(pairs)}")
        for i in range(0, len(pairs), 1000):
            chunk = pairs[i:i + 1000]
            got = r.pipeline([resp_command("MGET", *[k for k, _ in chunk])])[0]
            for (k, v), g in zip(chunk, got):
                if g != v:
                    raise Failure(f"key {k.decode()} reads back {g!r}, not {v.decode()}")
        r.pipeline([resp_command("SET", "after-restore", "yes")])
    finally:
        r.close()


def grep_images(d, needles):
    """The names of the files in d that hold any of needles."""
    hits = []
    for name in sorted(os.listdir(d)):
        path = os.path.join(d, name)
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        if any(n in data for n in needles):
            hits.append(name)
    return hits


def test_redis(env):
    redis = shutil.which("redis-server")
    if not redis:
        raise Failure("redis-server is missing (contrib/install-deps.sh installs it)")
    port = free_port()
    work = os.path.join(env.tmp, "redis")
    os.makedirs(work)
    pid = env.start(os.path.join(env.tmp, "redis.out"), redis, "--port", str(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", work, "--daemonize", "no")
    wait_port(port, pid)
    token = secrets.token_hex(8)
    pairs = redis_pairs(token)
    load_keys(port, pairs)
    d = os.path.join(env.tmp, "img")
    env.dump(pid, d, encrypt=True)
    leaks = grep_images(d, [token.encode(), b"session-" + token.encode()])
    if leaks:
        raise Failure(f"keys or values are readable in {', '.join(leaks)}")
    rpid = env.restore(d, encrypt=True)
    if rpid != pid:
        raise Failure(f"restored as {rpid}, not {pid}")
    if len(os.listdir(f"/proc/{rpid}/task")) < 2:
        raise Failure("redis came back without its threads")
    check_keys(port, pairs)


HTTP_SERVER = """
import http.server, sys
hits = 0
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        global hits
        hits += 1
        body = f"hit {hits} {self.path}\\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
print("listening", flush=True)
srv.serve_forever()
"""


def nft_has_table(name):
    r = subprocess.run(["nft", "list", "table", "inet", name], capture_output=True)
    return r.returncode == 0


def read_response(conn, path):
    resp = conn.getresponse()
    body = resp.read().decode()
    if resp.status != 200:
        raise Failure(f"GET {path}: {resp.status} {body}")
    return body.strip()


def get(conn, path):
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read().decode()
    if resp.status != 200:
        raise Failure(f"GET {path}: {resp.status} {body}")
    return body.strip()


def test_http(env):
    port = free_port()
    pid = env.start(os.path.join(env.tmp, "http.out"), sys.executable, "-c", HTTP_SERVER, str(port))
    wait_port(port, pid)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        first = get(conn, "/before")
        d = os.path.join(env.tmp, "img")
        env.dump(pid, d, "--tcp-established", encrypt=True)
        # The network lock: the server's port has no socket now, yet a request sent on the
        # kept connection gets no RST; it is retransmitted until the restored server answers.
        if not nft_has_table(f"CRIU-{pid}"):
            raise Failure(f"no network lock (table inet CRIU-{pid}) after the dump")
        conn.request("GET", "/during")
        time.sleep(1)
        rpid = env.restore(d, "--tcp-established", encrypt=True)
        if rpid != pid:
            raise Failure(f"restored as {rpid}, not {pid}")
        if nft_has_table(f"CRIU-{pid}"):
            raise Failure(f"the network lock (table inet CRIU-{pid}) is still there after restore")
        during = read_response(conn, "/during")
        after = get(conn, "/after")  # the same connection, kept across the checkpoint
    finally:
        conn.close()
    n = int(first.split()[1])
    if during != f"hit {n + 1} /during":
        raise Failure(f"the request sent while dumped got {during!r} after {first!r}")
    if after != f"hit {n + 2} /after":
        raise Failure(f"the kept connection got {after!r} after {first!r}")
    fresh = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        if get(fresh, "/new") != f"hit {n + 3} /new":
            raise Failure("a new connection after restore got a wrong answer")
    finally:
        fresh.close()


def test_http_leave_running(env):
    """--leave-running: the lock is gone and the connection goes on at once."""
    port = free_port()
    pid = env.start(os.path.join(env.tmp, "http-lr.out"), sys.executable, "-c", HTTP_SERVER, str(port))
    wait_port(port, pid)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        first = get(conn, "/before")
        env.dump(pid, os.path.join(env.tmp, "img-lr"), "--tcp-established", "-R", encrypt=True)
        if nft_has_table(f"CRIU-{pid}"):
            raise Failure(f"the network lock (table inet CRIU-{pid}) stays after --leave-running")
        t0 = time.monotonic()
        after = get(conn, "/after")
        if time.monotonic() - t0 > 1:
            raise Failure("the connection was slow to go on after --leave-running (still locked?)")
    finally:
        conn.close()
    n = int(first.split()[1])
    if after != f"hit {n + 1} /after":
        raise Failure(f"the connection got {after!r} after {first!r} and --leave-running")


TESTS = [test_redis, test_http, test_http_leave_running]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--criu", required=True)
    ap.add_argument("--keygen", required=True)
    ap.add_argument("-k", dest="only", action="append", help="run only tests whose name contains this")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    return e2e.run_tests("services", TESTS, args, Env)


if __name__ == "__main__":
    sys.exit(main())
