#!/usr/bin/env bash
# The demo `make demo` runs. For now it shows the two binaries and the verifier's interface;
# as the platform lands it grows into: start `lunald dev`, deploy the example app, call it,
# verify its attestation and print the record.
set -euo pipefail
build=${1:-build/release}
lunal="$build/src/cli/lunal"
lunald="$build/src/lunald/lunald"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "lunal --version"
"$lunal" --version
step "lunald --version"
"$lunald" --version
step "lunal attestation verify --help"
"$lunal" attestation verify --help
