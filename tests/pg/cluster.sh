#!/usr/bin/env bash
# Start (fixture setup) or stop (fixture cleanup) the test cluster.
set -euo pipefail
case "$1" in
  start) rm -rf "$OMOPIPE_DATA_DIR"; "$OMOPIPE" db start ;;
  stop)  "$OMOPIPE" db stop; rm -rf "$OMOPIPE_DATA_DIR" ;;
esac
