#!/usr/bin/env bash
# C-CDA extraction speed: generate N patients' CCDs (vendor A style, one
# document per patient) and time extract_ccda against libxml2 on the same
# bytes, plus one ~5 MB document built from the first (PERF.md's figure).
#   bench/ccda_bench.sh BUILD_DIR [PATIENTS]
set -euo pipefail
B=${1:?usage: ccda_bench.sh BUILD_DIR [PATIENTS]}; N=${2:-2000}
D=$(mktemp -d /tmp/ccda_bench.XXXXXX); trap 'rm -rf "$D"' EXIT
"$B/omopipe" generate --patients "$N" --sites 1 --only ccda/vendor-a --out "$D" >/dev/null
OMOPIPE_SHARE=${OMOPIPE_SHARE:-$(cd "$(dirname "$0")/.." && pwd)} "$B/bench_ccda" --big 5 "$D/north/ccda/vendor-a"
