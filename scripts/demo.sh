#!/usr/bin/env bash
# What `make demo` runs after building lunal, lunald and lunald-instance: start the embedded
# platform (`lunald dev`: control plane on SQLite, attestation service, CDS, a sim-tdx node and
# the gateway, state in ./.lunal/demo), deploy examples/hello-python, call it through the gateway,
# check and verify its attestation locally, print the record, stop the platform. Exits 0 only
# if every step worked.
set -euo pipefail
build=${1:-build/release}
root="$(cd "$(dirname "$0")/.." && pwd)"
case "$build" in /*) ;; *) build="$root/$build" ;; esac
lunal="$build/src/cli/lunal"
lunald="$build/src/lunald/lunald"
state="${LUNAL_DEMO_STATE:-$root/.lunal/demo}"
evidence="$root/../shared/evidence"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

mkdir -p "$(dirname "$state")"
ready="$state.ready.json"
log="$state.log"
rm -f "$ready"

step "lunald dev: every role in one process (log: ${log#$root/})"
"$lunald" dev --state "$state" --api-port 0 --gateway-port 0 --ready-file "$ready" >"$log" 2>&1 &
platform=$!
stop_platform() {
  if kill -0 "$platform" 2>/dev/null; then
    kill -TERM "$platform" 2>/dev/null || true
    wait "$platform" 2>/dev/null || true
  fi
}
trap stop_platform EXIT
for _ in $(seq 1 600); do
  [ -s "$ready" ] && break
  if ! kill -0 "$platform" 2>/dev/null; then cat "$log"; echo "lunald dev exited" >&2; exit 1; fi
  sleep 0.1
done
[ -s "$ready" ] || { cat "$log"; echo "lunald dev did not start in 60 s" >&2; exit 1; }
sed -n '1,12p' "$log" | grep -v '^{' || true
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$ready" "$1"; }
export LUNAL_API="$(field api)" LUNAL_TOKEN="$(field token)"
export LUNAL_CONFIG="$state/cli-config.yaml"   # leave the user's own CLI config alone
gateway="$(field gateway)"
port="${gateway##*:}"

step "lunal deploy examples/hello-python"
show "$lunal" deploy "$root/examples/hello-python" --name hello

step "call it through the gateway (Host routing, then path routing)"
show curl -sS --fail "http://hello.localhost:$port/api/hello"; echo
show curl -sS --fail "$gateway/d/hello/api/hello"; echo

step "lunal attestation status"
show "$lunal" attestation status --app hello

step "lunal attestation verify: evidence and collateral fetched from the API, verified here"
show "$lunal" attestation verify --deployment hello

step "the verification record (--json)"
show "$lunal" attestation verify --deployment hello --json

if [ -d "$evidence/collateral/intel" ]; then
  quote="$evidence/go-tdx-guest/testing/testdata/quote_v5_sample.dat"
  step "the same verifier on real Intel TDX hardware evidence, as of its capture time"
  show "$lunal" attestation verify --evidence "$quote" --collateral "$evidence/collateral/intel" \
    --at 2026-03-31T22:20:07Z
fi

step "stopping the platform (a restart of lunald dev with --state $state recovers 'hello')"
stop_platform
trap - EXIT
echo "demo complete"
