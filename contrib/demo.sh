#!/bin/bash
# make demo: checkpoint a live process that holds a secret with `criu dump --encrypt`, show
# that the secret is in no byte of any image file, restore it with the private key and watch
# it go on (the counter continues, the hash of its secret is the same). Runs as root.
#   contrib/demo.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
criu="$build/criu/criu"
holder="$build/contrib/demo/secret-holder"
work=$(mktemp -d /tmp/criusec-demo.XXXXXX)
pid=""

gone() { [ ! -e "/proc/$1" ]; }
wait_gone() { # $1 PID: until /proc/PID is gone (PID 1 reaps slowly here)
	for _ in $(seq 200); do gone "$1" && return 0; sleep 0.05; done
	echo "FAIL: process $1 is still there" >&2; return 1
}
cleanup() {
	if [ -n "$pid" ] && ! gone "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
		wait_gone "$pid" || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "run as root (criu needs CAP_SYS_ADMIN and CAP_SYS_PTRACE)"
[ -x "$criu" ] && [ -x "$holder" ] || fail "build first: $criu, $holder"

step "a throwaway PKI (contrib/criu-keygen)"
contrib/criu-keygen --bits 2048 -n demo -d "$work/pki" >/dev/null
ls "$work/pki/cert.pem" "$work/pki/private/key.pem"

step "a process holding a secret in memory"
secret="demo-secret-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
(umask 077; echo "$secret" > "$work/secret")
# In its own session, with no descriptor but stdin/out/err (criu can't dump inherited pipes yet).
(
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] && eval "exec $fd>&-"
	done
	exec setsid "$holder" "$work/secret" </dev/null >>"$work/holder.log" 2>&1
) &
pid=$!
disown "$pid"
sleep 1.2
rm -f "$work/secret" # from now on the secret exists only in the process's memory
echo "secret: $secret (pid $pid)"
tail -n 2 "$work/holder.log"

step "for contrast, a plain dump (-R: the process runs on) shows the secret to anyone"
mkdir "$work/plain"
"$criu" dump -t "$pid" -D "$work/plain" -R -o dump.log || fail "dump failed: $(tail -n 5 "$work/plain/dump.log")"
grep -rlaF "$secret" "$work/plain" | sed 's|^|  found in |' || fail "the secret is not in the plain images?"
rm -rf "$work/plain"

step "criu dump --encrypt --tls-cert cert.pem"
mkdir "$work/images"
"$criu" dump -t "$pid" -D "$work/images" --encrypt --tls-cert "$work/pki/cert.pem" -o dump.log ||
	fail "dump failed: $(tail -n 5 "$work/images/dump.log")"
wait_gone "$pid"
echo "pid $pid is gone; images:"
ls -l "$work/images" | sed 1d | awk '{printf "  %10s  %s\n", $5, $9}'

step "the secret is in no byte of any image file"
if grep -rlaF "$secret" "$work/images"; then
	fail "the secret is in the file(s) above"
fi
echo "grep -rlaF \"$secret\" $work/images: no match in any of $(ls "$work/images" | wc -l) files"

step "criu restore --tls-key key.pem"
before=$(tail -n 1 "$work/holder.log")
"$criu" restore -D "$work/images" -d --tls-key "$work/pki/private/key.pem" --pidfile "$work/restored.pid" \
	-o restore.log || fail "restore failed: $(tail -n 5 "$work/images/restore.log")"
[ "$(cat "$work/restored.pid")" = "$pid" ] || fail "restored as $(cat "$work/restored.pid"), not $pid"
sleep 1.6
echo "last line before the checkpoint: $before"
echo "after the restore (pid $pid):"
after=$(grep -A3 -xF "$before" "$work/holder.log" | tail -n 3)
echo "$after" | sed 's/^/  /'
n_before=$(echo "$before" | awk '{print $2}')
n_next=$(echo "$after" | head -n 1 | awk '{print $2}')
[ "$n_next" = "$((n_before + 1))" ] || fail "the counter did not go on from $n_before"
[ "$(echo "$after" | awk '{print $5}' | sort -u)" = "$(echo "$before" | awk '{print $5}')" ] ||
	fail "the secret's hash changed"
echo "the counter goes on from $n_before, the hash of the secret is unchanged"

step "stop pid $pid and clean up"
kill -KILL "$pid"
wait_gone "$pid"
pid=""
echo "done"
