#!/usr/bin/env bash
# On 1M nginx access lines + 1M journal JSON lines + 100k nginx error lines, side by side in
# one run, medians with peak memory:
# 1. load-and-merge: `sitrep timeline --count` against lnav's headless mode on the same files;
# 2. the same regex filter: sitrep (load, parse, filter, count) against grep -c and rg -c
#    (which only scan bytes);
# 3. findings: `sitrep diagnose` (load + every rule and runbook check) against the load alone;
# 4. the console: time to its first frame and to its findings (tmux at 160x48);
# 5. text output of the 1M journal records in time order: sitrep against hl 0.36
#    (../shared/bench/hl, or $HL) and lnav.
# Needs hyperfine, lnav, ripgrep, tmux and bc (Debian: apt-get install hyperfine lnav ripgrep
# tmux bc) and GNU time (/usr/bin/time).
# Usage: benches/compare.sh [DATA_DIR]   (the data is generated there once, ~520 MB)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-/tmp/sitrep-bench}
runs=${RUNS:-3}
hl=${HL:-../shared/bench/hl}
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

# 3. Findings against the load.
hyperfine --runs "$runs" --warmup 1 --export-json /tmp/sitrep-diagnose.json \
  -n load "$bin timeline $data --count" \
  -n diagnose "$bin diagnose $data" >/dev/null
python3 - "$(median_rss "$bin" timeline "$data" --count)" "$(median_rss "$bin" diagnose "$data")" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open("/tmp/sitrep-diagnose.json"))["results"]}
print(f"{'':18} {'median s':>9} {'peak RSS MB':>12}")
print(f"{'timeline --count':18} {r['load']:9.3f} {sys.argv[1]:>12}")
print(f"{'diagnose':18} {r['diagnose']:9.3f} {sys.argv[2]:>12}")
print(f"diagnose takes {r['diagnose'] / r['load']:.1f}x the load")
PY

# 4. The console: seconds from start to the first frame and to the findings in the header,
#    and its peak RSS once they are there.
console_times() {
  local s=sitrep-bench-$$ start now screen first="" found="" pid hwm
  start=$(date +%s.%N)
  tmux -L "$s" new-session -d -x 160 -y 48 "exec $bin replay $data"
  pid=$(tmux -L "$s" list-panes -F '#{pane_pid}')
  while :; do
    screen=$(tmux -L "$s" capture-pane -p 2>/dev/null || true)
    now=$(date +%s.%N)
    [ -z "$first" ] && grep -q "sitrep │" <<<"$screen" && first=$(echo "$now - $start" | bc)
    if grep -q "findings (f)" <<<"$screen"; then found=$(echo "$now - $start" | bc); break; fi
    [ "$(echo "$now - $start > 300" | bc)" = 1 ] && break
    sleep 0.05
  done
  hwm=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status" 2>/dev/null || echo 0)
  tmux -L "$s" kill-server
  echo "$first $found $hwm"
}
for _ in $(seq "$runs"); do console_times; done | sort -n -k2 | awk '
  {f[NR]=$1; d[NR]=$2; h[NR]=$3} END {m=int((NR+1)/2);
   printf "console: first frame %.2f s, findings %.2f s (%.2f s after the first frame), peak RSS %d MB (the median run), medians of %d\n", f[m], d[m], d[m]-f[m], h[m], NR}'

# 5. Text output of the journal, in time order.
journal=$data/journal/journal.json
hyperfine --runs "$runs" --warmup 1 --export-json /tmp/sitrep-text.json \
  -n sitrep "$bin timeline $journal --format text > /dev/null" \
  -n hl "$hl -s -P --color never $journal -o /dev/null" \
  -n lnav "lnav -n $journal > /dev/null" >/dev/null
python3 - "$(median_rss "$bin" timeline "$journal" --format text)" \
  "$(median_rss "$hl" -s -P --color never "$journal" -o /dev/null)" \
  "$(median_rss lnav -n "$journal")" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open("/tmp/sitrep-text.json"))["results"]}
print(f"{'text output':12} {'median s':>9} {'peak RSS MB':>12}")
for k, m in zip(("sitrep", "hl", "lnav"), sys.argv[1:]):
    print(f"{k:12} {r[k]:9.3f} {m:>12}")
print(f"sitrep is {r['hl'] / r['sitrep']:.2f}x as fast as hl, {r['lnav'] / r['sitrep']:.1f}x as fast as lnav")
PY
