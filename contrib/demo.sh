#!/bin/bash
# make demo: seal a checkpoint-shaped images directory holding a secret, show that the
# secret is in no byte of it, then open it with the private key.
# (The dump engine is not in yet: this shows the image layer. It becomes a real
# checkpoint/restore of a live process with --encrypt when `criu dump` lands.)
set -euo pipefail
build=${1:-build}
work=$(mktemp -d /tmp/criusec-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
secret="token-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
demo="$build/contrib/demo/seal-demo"
crit="$build/crit/crit"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "a throwaway PKI (contrib/criu-keygen)"
contrib/criu-keygen --bits 2048 -n demo -d "$work/pki"

step "plain images: the secret $secret is readable by anyone"
"$demo" write "$work/plain" "$secret"
grep -rlaF "$secret" "$work/plain" | sed 's/^/  found in /'

step "sealed images (--encrypt): every image sealed before it reaches the disk"
"$demo" write "$work/sealed" "$secret" "$work/pki/cert.pem"
ls -l "$work/sealed"
if grep -rlaF "$secret" "$work/sealed"; then
	echo "FAIL: the secret is in a sealed image" >&2
	exit 1
fi
echo "  the secret appears in no byte of $work/sealed"

step "crit without the key refuses"
"$crit" show "$work/sealed/pipes-data.img" || true

step "crit with the key decodes"
"$crit" show --tls-key "$work/pki/private/key.pem" "$work/sealed/core-4242.img" | head -20

step "opening the sealed images with the private key"
"$demo" read "$work/sealed" "$work/pki/private/key.pem"

step "one flipped byte in pages-1.img is refused"
printf '\x01' | dd of="$work/sealed/pages-1.img" bs=1 seek=8256 conv=notrunc status=none
"$demo" read "$work/sealed" "$work/pki/private/key.pem" || echo "  (refused, as it must be)"
