#!/usr/bin/env bash
# The demo `make demo` runs. Today: the two binaries, and offline verification of a real Intel
# TDX quote against Intel's collateral as of the time it was captured (from ../shared/evidence
# when that folder is present). As the platform lands this grows into: start `lunald dev`,
# deploy the example app, call it, verify its attestation and print the record.
set -euo pipefail
build=${1:-build/release}
lunal="$build/src/cli/lunal"
lunald="$build/src/lunald/lunald"
evidence="$(cd "$(dirname "$0")/.." && pwd)/../shared/evidence"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "lunal --version; lunald --version"
"$lunal" --version
"$lunald" --version

if [ ! -d "$evidence/collateral/intel" ]; then
  step "no ../shared/evidence here: showing the verifier's interface instead"
  "$lunal" attestation verify --help
  exit 0
fi

quote="$evidence/go-tdx-guest/testing/testdata/quote_v5_sample.dat"
step "lunal attestation verify: a real TDX v5 quote, as of its capture time"
echo "\$ lunal attestation verify --evidence quote_v5_sample.dat --collateral collateral/intel --at 2026-03-31T22:20:07Z"
"$lunal" attestation verify --evidence "$quote" --collateral "$evidence/collateral/intel" \
  --at 2026-03-31T22:20:07Z

step "the same quote today: Intel's collateral in the folder has expired, and we say so"
"$lunal" attestation verify --evidence "$quote" --collateral "$evidence/collateral/intel" || \
  echo "(exit status $?: not verified)"

step "the verification record (--json)"
"$lunal" attestation verify --evidence "$quote" --collateral "$evidence/collateral/intel" \
  --at 2026-03-31T22:20:07Z --json
