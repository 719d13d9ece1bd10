#!/usr/bin/env bash
# Load-and-merge of 1M nginx access lines + 1M journal JSON lines + 100k nginx error lines:
# `sitrep timeline --count` against lnav's headless mode on the same files.
# Then the same regex filter over the three files: sitrep (load, parse, filter, count)
# against grep -c and rg -c (which only scan bytes).
# Needs hyperfine, lnav and ripgrep (Debian: apt-get install hyperfine lnav ripgrep) and GNU
# time (/usr/bin/time).
# Usage: benches/compare.sh [DATA_DIR]   (the data is generated there once, ~520 MB)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-/tmp/sitrep-bench}
runs=${RUNS:-5}
[ -f "$data/manifest.toml" ] || cargo bench --bench gen -- "$data"
cargo build --release --quiet
bin=target/release/sitrep
files=("$data/nginx/access.log" "$data/journal/journal.json" "$data/nginx/error.log")
cat "${files[@]}" > /dev/null   # both read from the page cache

median_rss() {  # median peak RSS (MB) of a command over $runs runs
  for _ in $(seq "$runs"); do /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; done |
    sort -n | awk '{a[NR]=$1} END {printf "%.0f", a[int((NR+1)/2)]/1024}'
}

hyperfine --runs "$runs" --warmup 1 --export-json /tmp/sitrep-compare.json \
  -n sitrep "$bin timeline $data --count" \
  -n lnav "lnav -n ${files[*]}" \
  -n "wc -l" "wc -l ${files[*]}" >/dev/null
python3 - "$(median_rss "$bin" timeline "$data" --count)" "$(median_rss lnav -n "${files[@]}")" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open("/tmp/sitrep-compare.json"))["results"]}
rss_sitrep, rss_lnav = int(sys.argv[1]), int(sys.argv[2])
print(f"{'':8} {'median s':>9} {'peak RSS MB':>12}")
print(f"{'sitrep':8} {r['sitrep']:9.3f} {rss_sitrep:12}")
print(f"{'lnav':8} {r['lnav']:9.3f} {rss_lnav:12}")
print(f"{'wc -l':8} {r['wc -l']:9.3f}")
print(f"sitrep is {r['lnav'] / r['sitrep']:.1f}x faster than lnav, with {rss_sitrep / rss_lnav:.2f}x its memory")
PY

# A regex filter: case-sensitive, as smart case makes it with a capital letter.
pat='GET /api/items/42\?page=[0-9]*7 '
hyperfine --runs "$runs" --warmup 1 --export-json /tmp/sitrep-filter.json \
  -n sitrep "$bin timeline $data --grep '$pat' --count" \
  -n "grep -c" "grep -cE '$pat' ${files[*]}" \
  -n "rg -c" "rg -c '$pat' ${files[*]}" >/dev/null
python3 - <<'PY'
import json
r = {x["command"]: x["median"] for x in json.load(open("/tmp/sitrep-filter.json"))["results"]}
print(f"{'filter':8} {'median s':>9}")
for k in ("sitrep", "grep -c", "rg -c"):
    print(f"{k:8} {r[k]:9.3f}")
PY
