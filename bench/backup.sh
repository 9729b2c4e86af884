#!/usr/bin/env bash
# Backups and the audit export at size, in one run: a vault of $ACCOUNTS accounts and $AUDIT audit
# records (bench/seed_vault.py), backed up with `custody backup create` while the server runs,
# verified and restored (every sealed value opened, the whole chain walked), and the whole trail
# exported as CSV through the API, with the server's memory sampled while it streams. Each figure
# is set against sqlite3 doing the nearest raw job on the same file in the same run: `.backup` for
# the backup, `.backup` plus `PRAGMA integrity_check` for the restore, `-csv SELECT *` for the export.
# Usage: bench/backup.sh PATH/TO/custody
set -euo pipefail
BIN=${1:?path to the custody binary}
ACCOUNTS=${BENCH_ACCOUNTS:-100000}
AUDIT=${BENCH_AUDIT:-1000000}
PORT=${BENCH_PORT:-17994}
DIR=$(mktemp -d /tmp/custody-backup.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
. "$(dirname "$0")/lib.sh"
echo "bcryptCost: 10" >"$DIR/custody.yaml"
start_custody
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true; PIDS=()
python3 "$(dirname "$0")/seed_vault.py" "$DIR/data" "$ACCOUNTS" "$AUDIT"
"$BIN" serve --data-dir "$DIR/data" --host 127.0.0.1 --port "$PORT" --config "$DIR/custody.yaml" >"$DIR/stdout2" 2>"$DIR/stderr2" & PIDS+=($!)
for _ in $(seq 1 300); do grep -q "listening on" "$DIR/stdout2" 2>/dev/null && break; sleep 0.1; done
TOKEN=$(api -d '{"username":"admin","password":"Bench-Keeper-Pass-1"}' "$URL/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
secs() { python3 -c "import time; print(time.monotonic())"; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }

t0=$(secs); sqlite3 "$DIR/data/custody.sqlite" ".backup $DIR/peer.sqlite"; t1=$(secs)
PEER_BACKUP=$(elapsed "$t0" "$t1")
t0=$(secs); "$BIN" backup create --data-dir "$DIR/data" --out "$DIR/vault.custody-backup" >/dev/null; t1=$(secs)
BACKUP=$(elapsed "$t0" "$t1")
t0=$(secs); "$BIN" backup verify "$DIR/vault.custody-backup" --data-dir "$DIR/data" >/dev/null; t1=$(secs)
VERIFY=$(elapsed "$t0" "$t1")
t0=$(secs); "$BIN" backup restore "$DIR/vault.custody-backup" --data-dir "$DIR/restored" --master-key-file "$DIR/data/master.key" >/dev/null; t1=$(secs)
RESTORE=$(elapsed "$t0" "$t1")
t0=$(secs); sqlite3 "$DIR/data/custody.sqlite" ".backup $DIR/peer2.sqlite"; sqlite3 "$DIR/peer2.sqlite" "PRAGMA integrity_check" >/dev/null; t1=$(secs)
PEER_RESTORE=$(elapsed "$t0" "$t1")
SIZE=$(stat -c %s "$DIR/vault.custody-backup"); DBSIZE=$(stat -c %s "$DIR/peer.sqlite")

PID=${PIDS[0]}
RSS0=$(ps -o rss= -p "$PID")
( peak=0; while kill -0 "$PID" 2>/dev/null && [ ! -f "$DIR/export.done" ]; do r=$(ps -o rss= -p "$PID"); [ "$r" -gt "$peak" ] && peak=$r; echo "$peak" >"$DIR/peak"; sleep 0.05; done ) &
t0=$(secs); api "$URL/audit/export?format=csv" -o "$DIR/export.csv"; t1=$(secs); touch "$DIR/export.done"; wait $! 2>/dev/null || true
EXPORT=$(elapsed "$t0" "$t1"); ROWS=$(($(wc -l <"$DIR/export.csv") - 1)); PEAK=$(cat "$DIR/peak")
t0=$(secs); sqlite3 -csv "$DIR/data/custody.sqlite" "SELECT * FROM audit" >"$DIR/peer.csv"; t1=$(secs)
PEER_EXPORT=$(elapsed "$t0" "$t1")
# Reports over the whole vault: compliance opens every current password to test its policy.
t0=$(secs); api "$URL/reports/compliance?format=csv" -o "$DIR/compliance.csv"; t1=$(secs)
COMPLIANCE=$(elapsed "$t0" "$t1")
t0=$(secs); sqlite3 -csv "$DIR/data/custody.sqlite" "SELECT r.name, r.type, a.loginName, s.createdAt, length(s.sealed) FROM accounts a
  JOIN resources r ON r.id = a.resourceId LEFT JOIN secrets s ON s.accountId = a.id AND s.state = 'current'" >"$DIR/peer-comp.csv"; t1=$(secs)
PEER_COMPLIANCE=$(elapsed "$t0" "$t1")
t0=$(secs); api "$URL/reports/activity" -o "$DIR/activity.json"; t1=$(secs)
ACTIVITY=$(elapsed "$t0" "$t1")
t0=$(secs); sqlite3 "$DIR/data/custody.sqlite" "SELECT user, CAST(at / 86400 AS INTEGER) AS d, COUNT(*) FROM audit
  WHERE at >= strftime('%s', 'now', '-31 days') GROUP BY user, d" >/dev/null; t1=$(secs)
PEER_ACTIVITY=$(elapsed "$t0" "$t1")
python3 - "$COMPLIANCE" "$PEER_COMPLIANCE" "$ACTIVITY" "$PEER_ACTIVITY" "$(($(wc -l <"$DIR/compliance.csv") - 1))" <<'PY'
import sys
c, pc, a, pa = map(float, sys.argv[1:5])
print(f"compliance report csv ({int(sys.argv[5]):,} accounts, every password opened): {c:.2f} s   sqlite3 join of the same rows: {pc:.2f} s   ratio {c/pc:.2f}")
print(f"activity report (30 days of the trail): {a:.2f} s   sqlite3 GROUP BY user, day: {pa:.2f} s   ratio {a/pa:.2f}")
PY
python3 - "$ACCOUNTS" "$AUDIT" "$PEER_BACKUP" "$BACKUP" "$VERIFY" "$RESTORE" "$PEER_RESTORE" "$SIZE" "$DBSIZE" "$EXPORT" "$ROWS" "$PEER_EXPORT" "$RSS0" "$PEAK" <<'PY'
import sys
a, au, pb, b, v, r, pr, size, dbsize, ex, rows, pex, rss0, peak = sys.argv[1:]
pb, b, v, r, pr, ex, pex = map(float, (pb, b, v, r, pr, ex, pex))
rows, rss0, peak = int(rows), int(rss0), int(peak)
print(f"vault: {int(a):,} accounts, {int(au):,} extra audit records; database {int(dbsize)/1e6:.1f} MB, backup file {int(size)/1e6:.1f} MB")
print(f"backup create (CLI, server running): {b:6.2f} s   sqlite3 .backup: {pb:6.2f} s   ratio {b/pb:5.2f}")
print(f"backup verify (every secret, chain):  {v:6.2f} s")
print(f"backup restore (every secret, chain): {r:6.2f} s   sqlite3 .backup + integrity_check: {pr:6.2f} s   ratio {r/pr:5.2f}")
print(f"audit export csv: {rows:,} rows in {ex:.2f} s = {rows/ex:,.0f} rows/s   sqlite3 -csv: {rows/pex:,.0f} rows/s   ratio {pex/ex:.2f}")
print(f"server RSS during the export: {rss0/1024:.0f} MB before, {peak/1024:.0f} MB at most (+{(peak-rss0)/1024:.0f} MB)")
PY
