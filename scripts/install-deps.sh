#!/usr/bin/env bash
# Installs the Debian packages snntb needs, only those that are missing, so
# running it again is cheap.  The choice of each library is in docs/deps.md.
set -euo pipefail
pkgs=(build-essential cmake pkg-config zlib1g-dev libhdf5-dev libjansson-dev
      libzip-dev libopenblas-openmp-dev libcmocka-dev dataset-fashion-mnist
      libprotobuf-c-dev protobuf-c-compiler libonnx-dev libmicrohttpd-dev
      libjpeg62-turbo-dev libpng-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
