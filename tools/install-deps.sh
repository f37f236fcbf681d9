#!/usr/bin/env bash
# Installs the Debian 12 packages VDB builds and tests with. Idempotent: when every package is
# already installed it does nothing (no apt-get call at all), so it is fast on a warm machine.
# `install-deps.sh --bench` adds what vdb-bench compares against: hnswlib, FAISS, the
# Fashion-MNIST dataset and gnuplot.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libcaf-dev capnproto libcapnp-dev libboost-dev libyaml-cpp-dev libroaring-dev nlohmann-json3-dev
  liburing-dev
  zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev
  clang-format clang-tidy clang libclang-rt-14-dev
)
if [[ ${1:-} == --bench ]]; then
  packages+=(libhnswlib-dev libfaiss-dev libopenblas-dev dataset-fashion-mnist gnuplot-nox)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
