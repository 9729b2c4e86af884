#!/usr/bin/env bash
# make bench (network device part): change user "ops" on each of N emulated Cisco IOS devices
# (Tests/Emulators/netdev.py, SSH) with Custody (remote resets: change, copy to startup, verify,
# commit) and with netmiko 4 (send_config_set + save_config), in the same run, against the same
# emulators, sequentially and with 8 at a time. Usage: bench/netdev.sh PATH/TO/custody
set -euo pipefail
BIN=${1:?path to the custody binary}
N=${BENCH_DEVICES:-50}
OUT=${BENCH_OUT:-bench-out}
DIR=$(mktemp -d /tmp/custody-nbench.XXXXXX)
PORT=${BENCH_PORT:-17993}
BASE=${BENCH_DEVICE_PORT:-24100}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$DIR"
}
trap cleanup EXIT
python3 -c 'import netmiko' 2>/dev/null || python3 -m pip install -q netmiko 2>/dev/null || python3 -m pip install -q --break-system-packages netmiko

python3 "$HERE/../Tests/Emulators/netdev.py" --family ios --count "$N" --ssh-port "$BASE" --telnet-port 0 \
  --state-dir "$DIR/devices" --host-key "$DIR/host_key" --user admin:Bench-Admin-1:15 --user ops:Ops-Start-1:1 \
  --enable-secret Bench-Admin-1 >"$DIR/emulator.out" 2>"$DIR/emulator.err" & PIDS+=($!)
for _ in $(seq 1 300); do grep -q READY "$DIR/emulator.out" 2>/dev/null && break; sleep 0.1; done
grep -q READY "$DIR/emulator.out" || { echo "the emulator did not start"; cat "$DIR/emulator.err"; exit 1; }

# 1. netmiko, one device after another, then 8 threads.
read -r NM1 NM1OK < <(python3 "$HERE/netmiko_bench.py" "$BASE" "$N" 1 Bench-Admin-1 Netmiko-Seq-)
read -r NM8 NM8OK < <(python3 "$HERE/netmiko_bench.py" "$BASE" "$N" 8 Bench-Admin-1 Netmiko-Par-)

# 2. Custody: one resource per device, admin as login account, copy to startup on.
source "$HERE/lib.sh"
run_custody() {  # workers label
  rm -rf "$DIR/data"
  printf 'bcryptCost: 10\nresetWorkers: %s\nresetPerHostLimit: %s\n' "$1" "$1" >"$DIR/custody.yaml"
  PIDS=("${PIDS[0]}")
  start_custody
  # The vault starts from what each device has now (the previous run changed it).
  python3 - "$DIR/devices" "$N" >"$DIR/import.csv" <<'PY'
import csv, json, sys
d, n = sys.argv[1], int(sys.argv[2])
w = csv.writer(sys.stdout, lineterminator="\n")
w.writerow(["resourceName", "accountName", "dnsName", "type", "password"])
for i in range(n):
    ops = json.load(open(f"{d}/{i}.json"))["running"]["users"]["ops"]["password"]
    w.writerow([f"ios-{i}", "admin", "127.0.0.1", "Cisco IOS", "Bench-Admin-1"])
    w.writerow([f"ios-{i}", "ops", "127.0.0.1", "Cisco IOS", ops])
PY
  CT=text/csv api --data-binary @"$DIR/import.csv" "$URL/import/resources" >/dev/null
  local rids
  rids=$(api "$URL/resources" | python3 -c "
import json,sys
rs={r['name']:r['id'] for r in json.load(sys.stdin)}
print(' '.join(rs[f'ios-{i}'] for i in range($N)))")
  local i=0
  for rid in $rids; do
    api -X PUT -d "{\"mode\":\"agentless\",\"protocol\":\"ssh\",\"port\":$((BASE + i)),\"loginAccount\":\"admin\",\"enableAccount\":\"admin\",\"copyToStartup\":true}" \
      "$URL/resources/$rid/reset-config" >/dev/null
    i=$((i + 1))
  done
  # shellcheck disable=SC2086
  python3 "$HERE/rotate.py" localhost "$PORT" "$CA" "$TOKEN" ops $rids
  kill "${PIDS[1]}" 2>/dev/null || true
  wait "${PIDS[1]}" 2>/dev/null || true
}
read -r C1 C1OK < <(run_custody 1)
read -r C8 C8OK < <(run_custody 8)

python3 - "$N" "$NM1" "$NM1OK" "$NM8" "$NM8OK" "$C1" "$C1OK" "$C8" "$C8OK" <<'PY' | tee "$OUT/netdev-summary.txt"
import sys
n = int(sys.argv[1]); nm1, nm1ok, nm8, nm8ok, c1, c1ok, c8, c8ok = sys.argv[2:]
print(f"network devices: change user ops on {n} emulated Cisco IOS devices over SSH")
print(f"  netmiko 4 send_config_set+save_config, 1 at a time: {float(nm1):8.2f} s  ({nm1ok}/{n} ok)")
print(f"  Custody remote reset (change, copy to startup, verify), 1 at a time: {float(c1):8.2f} s  ({c1ok}/{n} ok)")
print(f"  netmiko, 8 threads: {float(nm8):8.2f} s  ({nm8ok}/{n} ok)")
print(f"  Custody, resetWorkers 8: {float(c8):8.2f} s  ({c8ok}/{n} ok)")
print(f"  ratio netmiko/Custody (higher: Custody faster): sequential {float(nm1)/float(c1):.2f}, 8 at a time {float(nm8)/float(c8):.2f}")
PY
