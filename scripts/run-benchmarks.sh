#!/usr/bin/env bash
# Runs every benchmark binary built from bench/ (bench/*_bench) and prints their RESULT lines
# together at the end: `RESULT <name> ours=<v> peer=<v> unit=<u> ratio=<ours/peer>`.
set -euo pipefail
build=${1:-build/release}
shopt -s nullglob
results=()
ran=0
for bin in "$build"/bench/*_bench; do
  [ -x "$bin" ] || continue
  echo "==> $(basename "$bin")"
  # One core, so "per core" figures mean that; the peer tools run as children on the same core.
  pin=()
  if command -v taskset >/dev/null; then pin=(taskset -c 0); fi
  out=$("${pin[@]}" "$bin" 2>&1 | tee /dev/stderr) || { echo "benchmark $bin failed" >&2; exit 1; }
  while IFS= read -r line; do results+=("$line"); done < <(grep '^RESULT ' <<<"$out" || true)
  ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || { echo "no benchmarks found under $build/bench" >&2; exit 1; }
echo
echo "== results ($ran benchmark programs) =="
printf '%s\n' "${results[@]}"
