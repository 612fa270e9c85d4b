#!/usr/bin/env bash
# Installs, with apt-get, exactly the Debian 12 packages Lunal needs to build, test and run.
# Idempotent: packages already installed are skipped, and nothing is done when none is missing.
# Runs apt-get directly as root, through sudo otherwise, and prints the exact command when it
# can do neither.
set -euo pipefail

PACKAGES=(
  # Build tools.
  build-essential cmake ninja-build pkg-config git clang clang-format clang-tidy libclang-rt-14-dev
  # Libraries (headers and link libraries).
  libssl-dev libboost1.81-dev libfmt-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libspdlog-dev
  libsqlite3-dev libpq-dev libarchive-dev libgtest-dev libgmock-dev libbenchmark-dev
  # Runtime peers the tests use: sandbox, SSH signatures, age, PostgreSQL, HTTP, OpenSSL CLI.
  bubblewrap openssh-client age postgresql curl openssl ca-certificates
  # The hermetic build's python recipe: pip download / pip install --target (src/build/sandbox).
  python3-pip
  # Independent JWT implementation for the result-token interop tests (PyJWT).
  python3-jwt python3-cryptography
  # in-toto / securesystemslib: independent DSSE verification of build provenance (interop test).
  in-toto python3-securesystemslib
  # HTTP load generator for bench/attest_service_bench (keep-alive POST load from a second process).
  wrk
  # jq: recomputes the canonical build manifest independently (src/build/tree manifest test).
  jq
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} missing package(s): ${missing[*]}"
cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo)
else
  echo "install-deps: not root and no password-less sudo; run this as root:" >&2
  echo "  apt-get update && ${cmd[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" "${cmd[@]}"
echo "install-deps: done"
