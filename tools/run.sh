#!/usr/bin/env bash
# Installs what is missing, builds, and starts vdbd with config/defaults.yaml, serving until
# SIGTERM or Ctrl-C. Extra arguments go to vdbd (e.g. --service.rpc_port=7000).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh build -DCMAKE_BUILD_TYPE=Release
exec build/bin/vdbd --config config/defaults.yaml "$@"
