#!/usr/bin/env bash
# make bench (shared part): rotate N accounts (default 20) on one local sshd through sudo, per-host
# limit 4, with privileged sessions shared (resetSessionIdleSeconds 5, the default) and not (0), against
# a plain asyncssh script doing the same change and fresh-login verify per account at concurrency 4
# (bench/asyncssh_rotate.py), in the same run, ROUNDS times each (median). Counts the sudo account's
# logins per run from sshd's log. Then the device variant: N accounts on one emulated Cisco IOS
# (Tests/Emulators/netdev.py), login helpdesk, enable secret, copy to startup, shared and not,
# with the emulator's count of enable sessions and saves.
# Needs root (it makes local users). Usage: bench/shared.sh PATH/TO/custody
set -euo pipefail
BIN=${1:?path to the custody binary}
N=${BENCH_ACCOUNTS:-20}
ROUNDS=${BENCH_ROUNDS:-3}
OUT=${BENCH_OUT:-bench-out}
DIR=$(mktemp -d /tmp/custody-sbench.XXXXXX)
SSHPORT=${BENCH_SSH_PORT:-22993}
PORT=${BENCH_PORT:-17993}
mkdir -p "$OUT" /run/sshd
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
source "$(dirname "$0")/lib.sh"

ssh-keygen -q -t ed25519 -N '' -f "$DIR/hk"
chmod 755 "$DIR"
cat >"$DIR/sshd_config" <<CFG
Port $SSHPORT
ListenAddress 127.0.0.1
HostKey $DIR/hk
PidFile $DIR/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
LogLevel INFO
MaxStartups 200:30:300
MaxSessions 200
CFG
mkuser() { id -u "$1" >/dev/null 2>&1 || useradd -m -s /bin/bash "$1"; echo "$1:$2" | chpasswd; }
mkuser custody_ssudo Shared-Sudo-Pass-1
echo 'custody_ssudo ALL=(ALL) ALL' >/etc/sudoers.d/custody-sbench && chmod 440 /etc/sudoers.d/custody-sbench
reset_users() { for i in $(seq -w 0 $((N - 1))); do mkuser "sb_$i" "Shared-Start-$i"; done; }
/usr/sbin/sshd -D -f "$DIR/sshd_config" -E "$DIR/sshd.log" & PIDS+=($!)
for _ in $(seq 1 100); do (echo >/dev/tcp/127.0.0.1/$SSHPORT) 2>/dev/null && break; sleep 0.1; done
logins() { grep -c "Accepted password for custody_ssudo" "$DIR/sshd.log" || true; }

VENV="$DIR/venv"
python3 -m venv "$VENV" && "$VENV/bin/pip" install -q asyncssh >/dev/null 2>&1 || true
[ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import asyncssh' 2>/dev/null || { echo "asyncssh could not be installed" >&2; exit 1; }

peer() {
  reset_users
  local args=() before
  for i in $(seq -w 0 $((N - 1))); do args+=("sb_$i:Peer-New-Pass-$i-$RANDOM"); done
  before=$(logins)
  read -r SECS OK < <("$VENV/bin/python" "$(dirname "$0")/asyncssh_rotate.py" "$SSHPORT" custody_ssudo Shared-Sudo-Pass-1 4 "${args[@]}")
  echo "$SECS $OK $(($(logins) - before))"
}

custody() {
  reset_users
  rm -rf "$DIR/data"
  printf 'bcryptCost: 10\nresetPerHostLimit: 4\nresetSessionIdleSeconds: %s\n' "$1" >"$DIR/custody.yaml"
  start_custody
  {
    echo "resourceName,accountName,dnsName,type,password"
    echo "bench-shared,custody_ssudo,127.0.0.1,Linux,Shared-Sudo-Pass-1"
    for i in $(seq -w 0 $((N - 1))); do echo "bench-shared,sb_$i,127.0.0.1,Linux,Shared-Start-$i"; done
  } >"$DIR/import.csv"
  CT=text/csv api --data-binary @"$DIR/import.csv" "$URL/import/resources" >/dev/null
  local rid before
  rid=$(api "$URL/resources" | python3 -c 'import json,sys; print([r["id"] for r in json.load(sys.stdin) if r["name"]=="bench-shared"][0])')
  api -X PUT -d "{\"mode\":\"agentless\",\"protocol\":\"ssh\",\"port\":$SSHPORT,\"loginAccount\":\"custody_ssudo\",\"elevation\":\"sudo\"}" \
    "$URL/resources/$rid/reset-config" >/dev/null
  before=$(logins)
  read -r SECS OK < <(python3 "$(dirname "$0")/rotate.py" localhost "$PORT" "$CA" "$TOKEN" sb_ "$rid")
  echo "$SECS $OK $(($(logins) - before))"
  kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true; unset 'PIDS[-1]'
  cp "$DIR/stderr" "$OUT/shared-custody-$1.log"
}

# The device: one emulated IOS with N accounts; its state file says what it went through.
DEVPORT=${BENCH_DEVICE_PORT:-24190}
device() {
  pkill -f "netdev.py --family ios --count 1 --ssh-port $DEVPORT" 2>/dev/null || true
  rm -rf "$DIR/device"
  local users=(--user helpdesk:Help-Pass-1:1)
  for i in $(seq -w 0 $((N - 1))); do users+=(--user "dv_$i:Device-Start-$i:1"); done
  python3 "$(dirname "$0")/../Tests/Emulators/netdev.py" --family ios --count 1 --ssh-port "$DEVPORT" --telnet-port 0 \
    --state-dir "$DIR/device" --host-key "$DIR/device_key" "${users[@]}" --enable-secret Enable-Secret-1 \
    >"$DIR/emulator.out" 2>"$DIR/emulator.err" & PIDS+=($!)
  for _ in $(seq 1 300); do grep -q READY "$DIR/emulator.out" 2>/dev/null && break; sleep 0.1; done
  grep -q READY "$DIR/emulator.out" || { echo "the emulator did not start" >&2; cat "$DIR/emulator.err" >&2; exit 1; }
  rm -rf "$DIR/data"
  printf 'bcryptCost: 10\nresetPerHostLimit: 4\nresetSessionIdleSeconds: %s\n' "$1" >"$DIR/custody.yaml"
  start_custody
  {
    echo "resourceName,accountName,dnsName,type,password"
    echo "bench-ios,helpdesk,127.0.0.1,Cisco IOS,Help-Pass-1"
    echo "bench-ios,enable,127.0.0.1,Cisco IOS,Enable-Secret-1"
    for i in $(seq -w 0 $((N - 1))); do echo "bench-ios,dv_$i,127.0.0.1,Cisco IOS,Device-Start-$i"; done
  } >"$DIR/import.csv"
  CT=text/csv api --data-binary @"$DIR/import.csv" "$URL/import/resources" >/dev/null
  local rid
  rid=$(api "$URL/resources" | python3 -c 'import json,sys; print([r["id"] for r in json.load(sys.stdin) if r["name"]=="bench-ios"][0])')
  api -X PUT -d "{\"mode\":\"agentless\",\"protocol\":\"ssh\",\"port\":$DEVPORT,\"loginAccount\":\"helpdesk\",\"enableAccount\":\"enable\",\"copyToStartup\":true}" \
    "$URL/resources/$rid/reset-config" >/dev/null
  read -r SECS OK < <(python3 "$(dirname "$0")/rotate.py" localhost "$PORT" "$CA" "$TOKEN" dv_ "$rid")
  read -r SAVES ENABLES < <(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print(s.get("saves", 0), sum(1 for l in s.get("log", []) if l.strip() == "enable"))' "$DIR/device/0.json")
  echo "$SECS $OK $ENABLES $SAVES"
  kill "${PIDS[-1]}" "${PIDS[-2]}"; wait "${PIDS[-1]}" "${PIDS[-2]}" 2>/dev/null || true
  PIDS=("${PIDS[@]:0:${#PIDS[@]}-2}")
}

: >"$DIR/results"
: >"$DIR/devices"
for r in $(seq 1 "$ROUNDS"); do
  echo "peer $(peer)" >>"$DIR/results"
  echo "shared $(custody 5)" >>"$DIR/results"
  echo "single $(custody 0)" >>"$DIR/results"
  echo "shared $(device 5)" >>"$DIR/devices"
  echo "single $(device 0)" >>"$DIR/devices"
done
python3 - "$N" "$DIR/results" "$DIR/devices" <<'PY' | tee "$OUT/shared-summary.txt"
import statistics, sys
n, path = int(sys.argv[1]), sys.argv[2]
runs = {}
for line in open(path):
    kind, secs, ok, logins = line.split()
    runs.setdefault(kind, []).append((float(secs), int(ok), int(logins)))
med = {k: statistics.median(s for s, _, _ in v) for k, v in runs.items()}
for k, label in [("peer", "asyncssh script (change + fresh-login verify, concurrency 4)"),
                 ("shared", "Custody, shared privileged sessions (resetSessionIdleSeconds 5)"),
                 ("single", "Custody, a session per change (resetSessionIdleSeconds 0)")]:
    v = runs[k]
    print(f"{label}: median {med[k]:.2f} s for {n} accounts; runs {[s for s, _, _ in v]}; succeeded {[o for _, o, _ in v]}; "
          f"sudo-account logins {[l for _, _, l in v]}")
print(f"speed vs the asyncssh script (its time / ours): shared {med['peer'] / med['shared']:.2f}x, a session per change {med['peer'] / med['single']:.2f}x")
dev = {}
for line in open(sys.argv[3]):
    kind, secs, ok, enables, saves = line.split()
    dev.setdefault(kind, []).append((float(secs), int(ok), int(enables), int(saves)))
dmed = {k: statistics.median(r[0] for r in v) for k, v in dev.items()}
for k, label in [("shared", "one enable session and one save per batch"), ("single", "a session and a save per change")]:
    v = dev[k]
    print(f"device, {n} accounts on one emulated Cisco IOS, {label}: median {dmed[k]:.2f} s; succeeded {[r[1] for r in v]}; "
          f"enable sessions {[r[2] for r in v]}; saves {[r[3] for r in v]}")
print(f"device speed-up, shared / a session per change: {dmed['single'] / dmed['shared']:.2f}x")
PY
