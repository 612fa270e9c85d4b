#!/usr/bin/env bash
# Runs each libFuzzer target built by the `fuzz` preset for a bounded time, starting from a
# working copy of its seed corpus (fuzz/corpus/<name>/), so new inputs never dirty the tree.
set -euo pipefail
build=${1:-build/fuzz}
seconds=${2:-60}
work=fuzz/corpus-work
shopt -s nullglob
for bin in "$build"/fuzz/*_fuzz; do
  name=$(basename "$bin" _fuzz)
  mkdir -p "$work/$name"
  cp -n fuzz/corpus/"$name"/* "$work/$name"/ 2>/dev/null || true
  echo "==> $name for ${seconds}s"
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 "$work/$name"
done
