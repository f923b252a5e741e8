#!/usr/bin/env bash
# The embedded cluster as root and as an ordinary user. PostgreSQL refuses to
# run as root: as root, omopipe's cluster belongs to an unprivileged user and
# its socket directory is private (0700). Run by root (CI), this test also
# starts a second instance as an ordinary user in a data directory of its own.
source "$(dirname "$0")/lib.sh"
owner=$(stat -c %U "$OMOPIPE_DATA_DIR/pg")
mode=$(stat -c %a "$OMOPIPE_DATA_DIR/run")
expect_eq "socket directory is private" 700 "$mode"
grep -q "^listen_addresses = ''" "$OMOPIPE_DATA_DIR/pg/postgresql.conf" || fail "the cluster listens on TCP"
echo "ok: no TCP port"
if [ "$(id -u)" = 0 ]; then
  [ "$owner" != root ] || fail "the cluster belongs to root"
  echo "ok: run as root, the cluster belongs to $owner"
  id omopipe-test >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin omopipe-test
  D=$(mktemp -d /tmp/omopipe-user-XXXXXX)
  chown omopipe-test "$D"
  as_user() { su -s /bin/bash omopipe-test -c "cd /tmp && OMOPIPE_SHARE='$OMOPIPE_SHARE' '$OMOPIPE' --data-dir '$D/data' $*"; }
  as_user db start > "$T/out" 2>&1 || { cat "$T/out"; fail "db start as an ordinary user"; }
  expect_eq "an ordinary user's cluster is its own" omopipe-test "$(stat -c %U "$D/data/pg")"
  as_user init > "$T/out" 2>&1 || { cat "$T/out"; fail "init as an ordinary user"; }
  expect_grep "init as an ordinary user" "created" "$T/out"
  as_user db stop > "$T/out" 2>&1 || fail "db stop as an ordinary user"
  rm -rf "$D"
else
  expect_eq "an ordinary user's cluster is its own" "$(id -un)" "$owner"
fi
