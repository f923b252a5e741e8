# Sourced by tests/pg/t_*.sh: a fresh database for this test, and small assertions.
# Environment (set by ctest): OMOPIPE (the binary), OMOPIPE_DATA_DIR, PGDATABASE,
# OMO_SHARED_DATA, OMO_FIXTURES, OMO_TEST_TMP.
set -euo pipefail
omo() { "$OMOPIPE" "$@"; }
sql() { "$OMOPIPE" psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_eq WHAT EXPECTED ACTUAL
expect_eq() { [ "$2" == "$3" ] || fail "$1: expected '$2', got '$3'"; echo "ok: $1 = $3"; }
# expect_rc WHAT EXPECTED-EXIT-CODE CMD...
expect_rc() { local what=$1 want=$2; shift 2; set +e; "$@" >"$T/out" 2>"$T/err"; local got=$?; set -e
  [ "$got" == "$want" ] || { cat "$T/out" "$T/err" >&2; fail "$what: exit code $got, expected $want"; }; echo "ok: $what (exit $got)"; }
expect_grep() { grep -q -- "$2" "$3" || { cat "$3" >&2; fail "$1: '$2' not in $3"; }; echo "ok: $1"; }
T="$OMO_TEST_TMP/$PGDATABASE"; rm -rf "$T"; mkdir -p "$T"
# a database of our own: drop what an earlier run left
PGDATABASE=postgres "$OMOPIPE" psql -X -q -c "DROP DATABASE IF EXISTS \"$PGDATABASE\" WITH (FORCE)" >/dev/null
