#!/usr/bin/env bash
# make bench (reset part): rotate 100 accounts on a local sshd, half through su, half through sudo.
# Compared in the same run with Ansible (ansible-core from PyPI, the user module with become) doing the
# same 100 changes, and with the handshake limit: 100 parallel `ssh -o BatchMode=yes ... true` with keys.
# Needs root (it makes local users). Usage: bench/reset.sh PATH/TO/custody
set -euo pipefail
BIN=${1:?path to the custody binary}
N=${BENCH_ACCOUNTS:-100}
OUT=${BENCH_OUT:-bench-out}
DIR=$(mktemp -d /tmp/custody-rbench.XXXXXX)
SSHPORT=${BENCH_SSH_PORT:-22990}
PORT=${BENCH_PORT:-17991}
mkdir -p "$OUT" /run/sshd
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT

# Target: sshd with PAM, users, su and sudo, keys for the handshake and Ansible runs.
ssh-keygen -q -t ed25519 -N '' -f "$DIR/hk"
ssh-keygen -q -t ed25519 -N '' -f "$DIR/client"
mkdir -p "$DIR/keys"
chmod 755 "$DIR" "$DIR/keys"
cat >"$DIR/sshd_config" <<CFG
Port $SSHPORT
ListenAddress 127.0.0.1
HostKey $DIR/hk
PidFile $DIR/sshd.pid
UsePAM yes
PasswordAuthentication yes
PubkeyAuthentication yes
AuthorizedKeysFile $DIR/keys/%u
StrictModes no
MaxStartups 200:30:300
MaxSessions 200
CFG
mkuser() { id -u "$1" >/dev/null 2>&1 || useradd -m -s /bin/bash "$1"; echo "$1:$2" | chpasswd; }
mkuser custody_login Login-Pass-1
mkuser custody_sudo Sudo-Pass-1
id -u custody_root >/dev/null 2>&1 || useradd -o -u 0 -g 0 -M -N -d /root -s /bin/bash custody_root
echo 'custody_root:Root-Pass-1' | chpasswd
echo 'custody_sudo ALL=(ALL) ALL' >/etc/sudoers.d/custody-bench && chmod 440 /etc/sudoers.d/custody-bench
for u in custody_login custody_sudo; do cp "$DIR/client.pub" "$DIR/keys/$u"; chmod 644 "$DIR/keys/$u"; done
for i in $(seq -w 0 $((N - 1))); do mkuser "cb_$i" "Bench-Start-$i"; done
/usr/sbin/sshd -D -f "$DIR/sshd_config" -E "$DIR/sshd.log" & PIDS+=($!)
for _ in $(seq 1 100); do (echo >/dev/tcp/127.0.0.1/$SSHPORT) 2>/dev/null && break; sleep 0.1; done

# 1. The handshake limit.
SSHOPTS=(-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i "$DIR/client" -p "$SSHPORT")
T0=$(date +%s.%N)
for i in $(seq 1 "$N"); do ssh "${SSHOPTS[@]}" custody_login@127.0.0.1 true & done
wait $(jobs -p | grep -v "${PIDS[0]}") 2>/dev/null || true
T1=$(date +%s.%N)
HANDSHAKE=$(python3 -c "print(f'{$T1 - $T0:.2f}')")

# 2. Custody: two resources on the host (su and sudo), 50 accounts each, one remote reset per account.
cat >"$DIR/custody.yaml" <<CFG
bcryptCost: 10
CFG
source "$(dirname "$0")/lib.sh"
start_custody
{
  echo "resourceName,accountName,dnsName,type,password"
  echo "bench-su,custody_login,127.0.0.1,Linux,Login-Pass-1"
  echo "bench-su,custody_root,127.0.0.1,Linux,Root-Pass-1"
  echo "bench-sudo,custody_sudo,127.0.0.1,Linux,Sudo-Pass-1"
  for i in $(seq -w 0 $((N - 1))); do
    if [ $((10#$i % 2)) -eq 0 ]; then echo "bench-su,cb_$i,127.0.0.1,Linux,Bench-Start-$i"; else echo "bench-sudo,cb_$i,127.0.0.1,Linux,Bench-Start-$i"; fi
  done
} >"$DIR/import.csv"
CT=text/csv api --data-binary @"$DIR/import.csv" "$URL/import/resources" >/dev/null
RES=$(api "$URL/resources")
RSU=$(echo "$RES" | python3 -c 'import json,sys; print([r["id"] for r in json.load(sys.stdin) if r["name"]=="bench-su"][0])')
RSUDO=$(echo "$RES" | python3 -c 'import json,sys; print([r["id"] for r in json.load(sys.stdin) if r["name"]=="bench-sudo"][0])')
api -X PUT -d "{\"mode\":\"agentless\",\"protocol\":\"ssh\",\"port\":$SSHPORT,\"loginAccount\":\"custody_login\",\"elevation\":\"su\",\"rootAccount\":\"custody_root\"}" "$URL/resources/$RSU/reset-config" >/dev/null
api -X PUT -d "{\"mode\":\"agentless\",\"protocol\":\"ssh\",\"port\":$SSHPORT,\"loginAccount\":\"custody_sudo\",\"elevation\":\"sudo\"}" "$URL/resources/$RSUDO/reset-config" >/dev/null
# One client process for all requests (bench/rotate.py): a curl and a python per request would be measured instead.
read -r CUSTODY OK < <(python3 "$(dirname "$0")/rotate.py" localhost "$PORT" "$CA" "$TOKEN" cb_ "$RSU" "$RSUDO")

# 3. Ansible: the same 100 changes with the user module, su for half and sudo for half.
VENV="$DIR/venv"
python3 -m venv "$VENV" && "$VENV/bin/pip" install -q ansible-core passlib >/dev/null 2>&1 || true
ANSIBLE="n/a"
if [ -x "$VENV/bin/ansible-playbook" ]; then
  cat >"$DIR/inventory.ini" <<INV
[su]
t-su ansible_host=127.0.0.1 ansible_port=$SSHPORT ansible_user=custody_login ansible_become_method=su ansible_become_user=custody_root ansible_become_password=Root-Pass-1
[sudo]
t-sudo ansible_host=127.0.0.1 ansible_port=$SSHPORT ansible_user=custody_sudo ansible_become_method=sudo ansible_become_password=Sudo-Pass-1
[all:vars]
ansible_ssh_private_key_file=$DIR/client
ansible_ssh_common_args=-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
ansible_python_interpreter=/usr/bin/python3
# su becomes the uid-0 alias custody_root; Ansible takes it for an unprivileged user and needs this.
ansible_shell_allow_world_readable_temp=true
INV
  python3 - "$N" >"$DIR/play.yml" <<'PY'
import sys
n = int(sys.argv[1])
su = [f"cb_{i:02d}" if n <= 100 else f"cb_{i}" for i in range(0, n, 2)]
sudo = [f"cb_{i:02d}" if n <= 100 else f"cb_{i}" for i in range(1, n, 2)]
def play(group, users):
    items = "\n".join(f"        - {u}" for u in users)
    return f"""- hosts: {group}
  become: true
  gather_facts: false
  tasks:
    - name: change passwords
      ansible.builtin.user:
        name: "{{{{ item }}}}"
        password: "{{{{ ('Ansible-' ~ item ~ '-Pass-9') | password_hash('sha512') }}}}"
      loop:
{items}
"""
print(play("su", su) + play("sudo", sudo))
PY
  T0=$(date +%s.%N)
  ANSIBLE_HOST_KEY_CHECKING=False "$VENV/bin/ansible-playbook" -f 5 -i "$DIR/inventory.ini" "$DIR/play.yml" >"$OUT/ansible.log" 2>&1 && ARC=0 || ARC=$?
  T1=$(date +%s.%N)
  ANSIBLE=$(python3 -c "print(f'{$T1 - $T0:.2f}')")
  [ "$ARC" = 0 ] || ANSIBLE="$ANSIBLE (failed, see $OUT/ansible.log)"
fi

python3 - "$CUSTODY" "$OK" "$N" "$ANSIBLE" "$HANDSHAKE" <<'PY' | tee "$OUT/reset-summary.txt"
import sys
custody, ok, n, ansible, hs = sys.argv[1:]
print(f"Custody: {n} remote resets (su/sudo, passwd, verify on a fresh connection): {custody} s wall, {ok} succeeded (per-host limit 4)")
print(f"Ansible user module with become, 2 plays, forks 5: {ansible} s wall")
print(f"Handshake limit: {n} parallel ssh -o BatchMode=yes true with keys: {hs} s wall")
try:
    print(f"ratio Custody/Ansible: {float(custody)/float(ansible.split()[0]):.2f}")
except Exception:
    print("ratio Custody/Ansible: n/a")
print(f"ratio Custody/handshake limit: {float(custody)/float(hs):.2f}")
PY
