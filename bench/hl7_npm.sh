#!/bin/bash
# hl7_npm.sh - time the most used npm HL7 v2 parser (simple-hl7) on a file of
# messages made by hl7_gen, for comparison with bench_hl7 on the same file.
#
#   bench/hl7_npm.sh FILE
#
# simple-hl7 is installed on demand into a folder outside the repository
# ($OMO_NPM_DIR, default /tmp/omopipe-bench-npm); nothing is written here.
# The file is streamed; messages are cut at each segment starting "MSH|" and
# each is parsed with simple-hl7's Parser (its segments split on CR).
set -euo pipefail
file=$(readlink -f "${1:?usage: hl7_npm.sh FILE}")
dir=${OMO_NPM_DIR:-/tmp/omopipe-bench-npm}
version=3.3.0
mkdir -p "$dir"
if [ ! -f "$dir/node_modules/simple-hl7/package.json" ]; then
	(cd "$dir" && npm install --no-audit --no-fund --silent "simple-hl7@$version" >/dev/null)
fi
cat > "$dir/bench.js" <<'JS'
const fs = require('fs');
const hl7 = require('simple-hl7');
const path = process.argv[2];
const parser = new hl7.Parser();
let msgs = 0, bytes = 0, segs = 0, tail = '';
const t0 = process.hrtime.bigint();
const stream = fs.createReadStream(path, { encoding: 'latin1', highWaterMark: 1 << 20 });
function one(m) {
  const parsed = parser.parse(m);
  msgs++;
  segs += parsed.segments.length + 1;
}
stream.on('data', (chunk) => {
  bytes += chunk.length;
  let s = tail + chunk, start = 0, i;
  while ((i = s.indexOf('\rMSH|', start + 1)) >= 0) {
    one(s.substring(start, i + 1));
    start = i + 1;
  }
  tail = s.substring(start);
});
stream.on('end', () => {
  if (tail.length) one(tail);
  const t = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`simple-hl7 ${require('simple-hl7/package.json').version}  ${(bytes / 1e6 / t).toFixed(1)} MB/s  ${(msgs / t).toFixed(0)} msgs/s  (${msgs} messages, ${segs} segments, ${t.toFixed(1)} s)`);
});
JS
node --version >/dev/null
cd "$dir" && node bench.js "$file"
