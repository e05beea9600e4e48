#!/bin/sh
# setup.sh: install what evault needs to build, test and run its demo on
# Debian 12, from Debian's own packages.  Run as root.  Safe to run again:
# packages already installed are left alone, and when nothing is missing
# the package lists are not even fetched.
#
#   build     meson ninja-build pkg-config gcc, libsodium, OpenSSL libcrypto,
#             jansson, and the media libraries later modules link with
#             (libavformat/libavcodec/libavutil/libswscale, libexif,
#             libseccomp, libmagic)
#   tests     check (unit tests), valgrind, clang + its sanitizer runtime,
#             ffmpeg and exiftool (tests and the demo make their own media),
#             restic (the benchmark's peer), util-linux, time, xxd,
#             python3-cryptography (the certificate tests' independent
#             generator), chromium and poppler-utils (the HTML certificate
#             is rendered headless and its printed text checked)
set -eu

packages="meson ninja-build pkg-config gcc libsodium-dev libssl-dev
libjansson-dev check libavformat-dev libavcodec-dev libavutil-dev
libswscale-dev libexif-dev libheif-dev libseccomp-dev libmagic-dev ffmpeg
libimage-exiftool-perl restic valgrind clang libclang-rt-14-dev util-linux
time xxd python3 python3-cryptography chromium poppler-utils"

missing=
for p in $packages; do
	status=$(dpkg-query -W -f '${Status}' "$p" 2>/dev/null || true)
	case $status in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "setup: every package evault needs is installed"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "setup: missing packages:$missing" >&2
	echo "setup: run this script as root to install them" >&2
	exit 2
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/evault-setup.XXXXXX)
trap 'rm -f "$log"' EXIT

# Quiet on success; on failure the tail of apt's output says why.
run() {
	if ! "$@" >"$log" 2>&1; then
		echo "setup: '$*' failed:" >&2
		tail -n 30 "$log" >&2
		exit 2
	fi
}

echo "setup: installing:$missing"
run apt-get update
# shellcheck disable=SC2086 # word splitting of the package list is wanted
run apt-get install -y -o Dpkg::Options::=--force-confdef \
	-o Dpkg::Options::=--force-confold $missing
echo "setup: done"
