#!/usr/bin/env bash
# Installs what camgate needs on Debian 12 / Raspberry Pi OS (bookworm), as root.
#   tools/install-deps.sh          build and run
#   tools/install-deps.sh --test   also what the test suites need (Chromium, clang, ffmpeg, npm)
#   tools/install-deps.sh --cross  also Debian's arm64/armhf cross compilers, qemu-user and
#                                  the target sysroots (tools/cross-sysroot.sh)
#   tools/install-deps.sh --bench  also GStreamer's webrtcbin, for the reference sender that
#                                  tests/bench/latency.sh compares camgate with
set -euo pipefail

want_tests=0 want_cross=0 want_bench=0
for arg in "$@"; do
  case $arg in
  --test) want_tests=1 ;;
  --cross) want_cross=1 ;;
  --bench) want_bench=1 ;;
  *) echo "install-deps: unknown option $arg" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root" >&2; exit 1; }
  exec sudo "$0" "$@"
fi

build_pkgs=(
  meson ninja-build pkg-config gcc libc6-dev
  libglib2.0-dev libjson-glib-dev libnice-dev libgnutls28-dev libsrtp2-dev libmicrohttpd-dev
  libx264-dev libsystemd-dev libturbojpeg0-dev libopus-dev libasound2-dev
  libv4l-dev libva-dev libdrm-dev
)
test_pkgs=(
  clang libclang-rt-14-dev ffmpeg chromium fonts-liberation nodejs npm iproute2
  util-linux curl python3 openssl systemd coturn
  debhelper lintian mmdebstrap
  # libcamera cameras (-Dlibcamera=auto, the one C++ backend) and, in the vdev guest, the
  # vimc pipeline handler's IPA module, both from Debian's libcamera 0.0.3.
  g++ libcamera-dev libcamera-ipa
)
bench_pkgs=(
  python3-gst-1.0 gir1.2-gst-plugins-bad-1.0 gir1.2-gst-plugins-base-1.0 gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-nice
  gstreamer1.0-tools
)
cross_pkgs=(
  gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf qemu-user mmdebstrap
)

pkgs=("${build_pkgs[@]}")
[ $want_tests -eq 1 ] && pkgs+=("${test_pkgs[@]}")
[ $want_cross -eq 1 ] && pkgs+=("${cross_pkgs[@]}")
[ $want_bench -eq 1 ] && pkgs+=("${bench_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A machine may have node/npm from elsewhere (nodesource, nvm): don't fight it.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs/}"); missing=("${missing[@]/npm/}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ $want_tests -eq 1 ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  if [ -f "$here/tests/browser/package-lock.json" ]; then
    (cd "$here/tests/browser" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
if [ $want_cross -eq 1 ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  for arch in ${CG_CROSS:-arm64 armhf}; do
    # A mirror mid-sync must not fail everything: run-tests skips a target without one.
    "$here/tools/cross-sysroot.sh" "$arch" ||
      echo "install-deps: no $arch sysroot; its cross stage will be skipped" >&2
  done
fi
echo "install-deps: done"
