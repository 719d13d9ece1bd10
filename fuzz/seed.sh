#!/bin/sh
# Build fuzz/corpus/<target>/ from the repository's test bundles, runbooks and lessons.
# Run from anywhere; corpus/ is gitignored. Needs tar and gzip.
set -eu
cd "$(dirname "$0")"
R=..
C=corpus
mkdir -p $C/parse_file $C/bundle_archive $C/runbook $C/lesson $C/config $C/manifest_and_query $C/names $C/redact

# parse_file: selector byte (index into PATHS in fuzz_targets/parse_file.rs), mode byte 0, content.
sel() {
  case "$1" in
    */access.log.*.gz) echo 21 ;; */access.log.1) echo 20 ;; *.gz) echo 19 ;;
    */access.log) echo 0 ;; */error.log*) echo 1 ;; */nginx-T.txt) echo 2 ;;
    */journal.json) echo 3 ;; */ss*.txt) echo 6 ;; */units.json) echo 7 ;;
    */show/*) echo 9 ;; */cat/*) echo 10 ;; */status/*) echo 11 ;;
    */gunicorn.log*|*/worker.log) echo 12 ;; */gunicorn.conf.py) echo 14 ;;
    */ci/*.json) echo 15 ;; */cf-revisions.txt) echo 16 ;; */cf-env.txt) echo 17 ;;
    */cf-logs*.txt) echo 18 ;; *) echo 22 ;;
  esac
}
find $R/tests/bundles -type f ! -name manifest.toml | while read -r f; do
  n=$(sel "$f")
  out=$C/parse_file/$(echo "${f#$R/tests/bundles/}" | tr '/:' '__')
  { printf "\\$(printf %03o "$n")\\000"; head -c 60000 "$f"; } > "$out"
done

# bundle_archive: 0 + .tar.gz, 1 + .tar, of each small bundle.
for b in healthy awkward i3-daemon-reload i6-pipeline-platform; do
  tar -C $R/tests/bundles -cf /tmp/sitrep-seed.tar "$b"
  { printf '\001'; cat /tmp/sitrep-seed.tar; } | head -c 65536 > $C/bundle_archive/$b.tar
  { printf '\000'; gzip -c /tmp/sitrep-seed.tar; } | head -c 65536 > $C/bundle_archive/$b.tar.gz
done
rm -f /tmp/sitrep-seed.tar
# A bundle of several hosts, as capture --ssh writes: hosts/NAME/... and a top manifest.
M=$(mktemp -d)
mkdir -p $M/hosts
cp -r $R/tests/hosts/app1 $R/tests/hosts/proxy1 $M/hosts/
printf 'hosts = ["app1", "proxy1"]\nfailed = ["down: ssh down: Connection refused"]\n' > $M/manifest.toml
{ printf '\000'; tar -C $M -czf - manifest.toml hosts; } > $C/bundle_archive/multi-host.tar.gz
rm -rf $M

for f in $R/src/analysis/checklist/runbooks/*.toml; do
  { printf '\006'; cat "$f"; } > $C/runbook/$(basename "$f"); done
cp $R/src/learn/lessons/*.toml $C/lesson/
for f in $R/tests/configs/*/*; do [ -f "$f" ] && { printf '\000'; cat "$f"; } > $C/config/cfg-$(basename "$f"); done
for f in $R/themes/*.toml; do { printf '\001'; cat "$f"; } > $C/config/theme-$(basename "$f"); done
printf '\000theme = "light"\n[keys]\nquit = ["q", "ctrl-q"]\nnext_problem = ["e", "ctrl-n"]\n' > $C/config/keys
for f in $R/tests/bundles/*/manifest.toml; do
  { printf '\000'; cat "$f"; } > $C/manifest_and_query/m-$(basename "$(dirname "$f")"); done
printf '\001status>=500 and path~^/api' > $C/manifest_and_query/q1
printf '\001level>=error and text~"SIGKILL" and host=fuzz' > $C/manifest_and_query/q2
printf '\0022023-04-13T11:24:04+02:00' > $C/manifest_and_query/i1
printf '\003 1h30m' > $C/manifest_and_query/d1
printf 'app/\033]52;c;ZXZpbA==\007x.log' > $C/names/osc52
printf 'web1\342\200\256\302\233\n\t../..' > $C/names/bidi-c1
printf '\360\237\221\251\342\200\215\360\237\222\273.host' > $C/names/zwj
# redact: the bundles' logs and journals as they are (byte 0: 2, --redact-pii).
find $R/tests/bundles -type f \( -name '*.log' -o -name 'journal.json' -o -name '*.export' \) | while read -r f; do
  { printf '\002'; head -c 60000 "$f"; } > $C/redact/$(echo "${f#$R/tests/bundles/}" | tr '/:' '__')
done
ls $C | while read -r t; do echo "$t: $(ls $C/$t | wc -l) files"; done
