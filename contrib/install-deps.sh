#!/bin/sh
# Installs the Debian packages CRIUsec needs to build, test, benchmark and demo.
# Does nothing when everything is already there.
set -eu

PKGS="
build-essential g++ pkg-config meson ninja-build
libgnutls28-dev gnutls-bin
libprotobuf-c-dev protobuf-c-compiler protobuf-compiler python3-protobuf
libnl-3-dev libnl-route-3-dev libcap-dev libbsd-dev libfmt-dev nlohmann-json3-dev
catch2
criu
openssl gnupg age
python3 redis-server redis-tools
nftables
"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
