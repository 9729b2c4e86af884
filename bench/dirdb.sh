#!/usr/bin/env bash
# make bench (directory and database part): rotate 200 LDAP accounts on slapd and 200 PostgreSQL
# roles through Custody (remote resets: change, verify, commit), and compare in the same run with
# ldappasswd and psql run in a shell loop over the same accounts. Plain LDAP and TCP without TLS for
# both sides. Needs root (slapd, and initdb as the postgres user). Usage: bench/dirdb.sh PATH/TO/custody
set -euo pipefail
BIN=${1:?path to the custody binary}
N=${BENCH_DIR_ACCOUNTS:-200}
OUT=${BENCH_OUT:-bench-out}
DIR=$(mktemp -d /tmp/custody-dbench.XXXXXX)
LDAPPORT=${BENCH_LDAP_PORT:-23890}
PGPORT=${BENCH_PG_PORT:-23891}
PORT=${BENCH_PORT:-17992}
PGBIN=/usr/lib/postgresql/15/bin
SUFFIX="dc=bench,dc=test"
ADMINDN="cn=pwadmin,$SUFFIX"
mkdir -p "$OUT"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  pkill -f "postgres -D $DIR/pg" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$DIR"
}
trap cleanup EXIT
now() { date +%s.%N; }
waitport() { for _ in $(seq 1 200); do (echo >/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }
chmod 755 "$DIR"

# slapd: mdb, ppolicy (min length 10), N people.
mkdir -p "$DIR/ldap/db"
cat >"$DIR/ldap/slapd.conf" <<CFG
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile $DIR/ldap/slapd.pid
database mdb
maxsize 104857600
suffix "$SUFFIX"
rootdn "cn=root,$SUFFIX"
rootpw Bench-Root-Secret-1
directory $DIR/ldap/db
overlay ppolicy
ppolicy_default "cn=default,ou=policies,$SUFFIX"
ppolicy_hash_cleartext
access to attrs=userPassword by dn.exact="$ADMINDN" write by self write by anonymous auth by * none
access to * by * read
CFG
{
  printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: bench\no: Bench\n\n' "$SUFFIX"
  printf 'dn: ou=policies,%s\nobjectClass: organizationalUnit\nou: policies\n\n' "$SUFFIX"
  printf 'dn: cn=default,ou=policies,%s\nobjectClass: device\nobjectClass: pwdPolicy\ncn: default\npwdAttribute: userPassword\npwdMinLength: 10\npwdCheckQuality: 2\n\n' "$SUFFIX"
  printf 'dn: ou=people,%s\nobjectClass: organizationalUnit\nou: people\n\n' "$SUFFIX"
  printf 'dn: %s\nobjectClass: person\ncn: pwadmin\nsn: admin\nuserPassword: Bench-Admin-1\n\n' "$ADMINDN"
  for i in $(seq -w 0 $((N - 1))); do
    printf 'dn: uid=bl_%s,ou=people,%s\nobjectClass: inetOrgPerson\nuid: bl_%s\ncn: bl_%s\nsn: bl\nuserPassword: Bench-L-%s-Start\n\n' "$i" "$SUFFIX" "$i" "$i" "$i"
  done
} >"$DIR/ldap/data.ldif"
slapadd -f "$DIR/ldap/slapd.conf" -l "$DIR/ldap/data.ldif" >/dev/null 2>&1
/usr/sbin/slapd -d 0 -f "$DIR/ldap/slapd.conf" -h "ldap://127.0.0.1:$LDAPPORT/" >/dev/null 2>&1 & PIDS+=($!)
waitport "$LDAPPORT"

# PostgreSQL 15: SCRAM on 127.0.0.1, an admin with CREATEROLE, N login roles.
mkdir -p "$DIR/pg" && chown postgres "$DIR/pg"
runuser -u postgres -- "$PGBIN/initdb" -D "$DIR/pg/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 >/dev/null
runuser -u postgres -- "$PGBIN/postgres" -D "$DIR/pg/data" -p "$PGPORT" -k "$DIR/pg" -c listen_addresses=127.0.0.1 >"$DIR/pg/log" 2>&1 &
waitport "$PGPORT"
{
  echo "CREATE ROLE bench_admin LOGIN CREATEROLE PASSWORD 'Bench-Admin-1';"
  for i in $(seq -w 0 $((N - 1))); do echo "CREATE ROLE bp_$i LOGIN PASSWORD 'Bench-P-$i-Start';"; done
} | psql -X -q -h "$DIR/pg" -p "$PGPORT" -U postgres -d postgres >/dev/null

# 1. Baselines: one ldappasswd / one psql per account, in a shell loop, as an admin would script it.
T0=$(now)
for i in $(seq -w 0 $((N - 1))); do
  ldappasswd -x -H "ldap://127.0.0.1:$LDAPPORT" -D "$ADMINDN" -w Bench-Admin-1 -s "Bench-L-$i-Loop1" "uid=bl_$i,ou=people,$SUFFIX" >/dev/null
done
T1=$(now)
LDAPLOOP=$(python3 -c "print(f'{$T1 - $T0:.2f}')")
T0=$(now)
for i in $(seq -w 0 $((N - 1))); do
  PGPASSWORD=Bench-Admin-1 psql -X -q -h 127.0.0.1 -p "$PGPORT" -U bench_admin -d postgres -c "ALTER ROLE bp_$i PASSWORD 'Bench-P-$i-Loop1'" >/dev/null
done
T1=$(now)
PGLOOP=$(python3 -c "print(f'{$T1 - $T0:.2f}')")

# 2. Custody: one resource each, the admin as login account, one remote reset per account.
echo "bcryptCost: 10" >"$DIR/custody.yaml"
source "$(dirname "$0")/lib.sh"
start_custody
{
  echo "resourceName,accountName,dnsName,type,password"
  echo "bench-ldap,\"$ADMINDN\",127.0.0.1,LDAP Server,Bench-Admin-1"
  echo "bench-pg,bench_admin,127.0.0.1,PostgreSQL Server,Bench-Admin-1"
  for i in $(seq -w 0 $((N - 1))); do
    echo "bench-ldap,\"uid=bl_$i,ou=people,$SUFFIX\",127.0.0.1,LDAP Server,Bench-L-$i-Loop1"
    echo "bench-pg,bp_$i,127.0.0.1,PostgreSQL Server,Bench-P-$i-Loop1"
  done
} >"$DIR/import.csv"
CT=text/csv api --data-binary @"$DIR/import.csv" "$URL/import/resources" >/dev/null
RES=$(api "$URL/resources")
rid() { echo "$RES" | python3 -c "import json,sys; print([r['id'] for r in json.load(sys.stdin) if r['name']=='$1'][0])"; }
RLDAP=$(rid bench-ldap)
RPG=$(rid bench-pg)
api -X PUT -d "{\"mode\":\"agentless\",\"port\":$LDAPPORT,\"loginAccount\":\"$ADMINDN\"}" "$URL/resources/$RLDAP/reset-config" >/dev/null
api -X PUT -d "{\"mode\":\"agentless\",\"port\":$PGPORT,\"loginAccount\":\"bench_admin\"}" "$URL/resources/$RPG/reset-config" >/dev/null

# One client process for all the requests of a run (bench/rotate.py), so the client is not measured.
rotate() { python3 "$(dirname "$0")/rotate.py" localhost "$PORT" "$CA" "$TOKEN" "$2" "$1"; }
read -r LDAPC LDAPOK < <(rotate "$RLDAP" "uid=bl_")
read -r PGC PGOK < <(rotate "$RPG" bp_)

python3 - "$N" "$LDAPC" "$LDAPOK" "$LDAPLOOP" "$PGC" "$PGOK" "$PGLOOP" <<'PY' | tee "$OUT/dirdb-summary.txt"
import sys
n, lc, lok, ll, pc, pok, pl = sys.argv[1:]
n = int(n)
def rate(s, done=None): return (int(done) if done is not None else n) / float(s)
print(f"LDAP, {n} accounts: Custody {lc} s ({rate(lc, lok):.1f} accounts/s, {lok} succeeded; change + verify bind + commit)"
      f" vs ldappasswd loop {ll} s ({rate(ll):.1f} accounts/s, change only); ratio Custody/loop time {float(lc)/float(ll):.2f}")
print(f"PostgreSQL, {n} roles: Custody {pc} s ({rate(pc, pok):.1f} accounts/s, {pok} succeeded; SCRAM verifier + verify login + commit)"
      f" vs psql loop {pl} s ({rate(pl):.1f} accounts/s, change only); ratio Custody/loop time {float(pc)/float(pl):.2f}")
PY
