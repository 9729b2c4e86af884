#!/usr/bin/env bash
# An outside fuzzer over the API: schemathesis generates requests from the server's own OpenAPI
# document and checks that no answer is a 5xx, that every answer matches the schema the document
# gives it, and that its content type is one the document lists. Run by `make test` after the
# Swift tests; it fails the run on any finding.
#   Tests/fuzz/api-fuzz.sh PATH/TO/custody
# The server and the fuzzer run in a network namespace with loopback only (unshare -n), so fuzzed
# settings (LDAP, SMTP, syslog and SSH hosts) reach nothing outside.
#   CUSTODY_FUZZ_EXAMPLES  examples per operation (default 25)
#   CUSTODY_FUZZ_PHASES    schemathesis phases (default examples,fuzzing; add coverage for a longer,
#                          deeper run: about 11 minutes here)
#   CUSTODY_FUZZ_SEED      the generator's seed (default 4242, so a run repeats)
set -euo pipefail
BIN=${1:?path to the custody binary}
BIN=$(readlink -f "$BIN")
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${CUSTODY_FUZZ_INSIDE:-}" ]; then
	python3 -c 'import schemathesis' 2>/dev/null || { echo "api-fuzz: schemathesis is not installed: run make deps" >&2; exit 1; }
	exec unshare -n env CUSTODY_FUZZ_INSIDE=1 bash "$0" "$BIN"
fi
ip link set lo up
DIR=$(mktemp -d /tmp/custody-fuzz.XXXXXX)
PORT=18443
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
echo "bcryptCost: 10" >"$DIR/custody.yaml"
source "$HERE/../../bench/lib.sh"
start_custody
grep -q "listening on" "$DIR/stdout" || { echo "api-fuzz: the server did not start: $(tail -5 "$DIR/stderr")" >&2; exit 1; }

# Objects for the path parameters to name (else nearly every request would be a 404).
id() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("id") or d.get("taskId") or d.get("runId"))'; }
RID=$(api -d '{"name":"fuzz-host","dnsName":"fuzz-host.invalid","type":"Linux"}' "$URL/resources" | id)
AID=$(api -d '{"loginName":"root","password":"Fuzz-Pass-123!"}' "$URL/resources/$RID/accounts" | id)
GID=$(api -d "{\"name\":\"fuzz-group\",\"resourceIds\":[\"$RID\"]}" "$URL/groups" | id)
USER=$(api -d '{"username":"fuzzuser","password":"Fuzz-User-Pass-1","role":"passwordUser"}' "$URL/users" | id)
ADMIN=$(api "$URL/auth/me" | id)
api -d '{"username":"fuzzadmin","password":"Fuzz-Admin-Pass-1","role":"administrator"}' "$URL/users" >/dev/null  # owners, approvers
api -X PUT -d '{"mode":"agentless","protocol":"ssh","port":22,"loginAccount":"root"}' "$URL/resources/$RID/reset-config" >/dev/null
TASK=$(api -X PUT -d '{"resetType":"remote","reason":"fuzz"}' "$URL/resources/$RID/accounts/$AID/password" | id)
RUN=$(api -X POST "$URL/groups/$GID/rotation/run" | id)
CHECK=$(api -X POST "$URL/integrity/run" | id)

cat >"$DIR/schemathesis.toml" <<TOML
[dictionaries.rid]
values = ["$RID"]
[dictionaries.aid]
values = ["$AID"]
[dictionaries.gid]
values = ["$GID"]
[dictionaries.uid]
values = ["$USER"]
[dictionaries.task]
values = ["$TASK"]
[dictionaries.run]
values = ["$RUN"]
[dictionaries.check]
values = ["$CHECK"]

[[operations]]
include-path-regex = "^/api/v1/resources/\\\\{rid\\\\}"
parameters = { "path.rid" = { dictionary = "rid", probability = 0.8 }, "path.aid" = { dictionary = "aid", probability = 0.8 } }
[[operations]]
include-path-regex = "^/api/v1/groups/\\\\{gid\\\\}"
parameters = { "path.gid" = { dictionary = "gid", probability = 0.8 } }
[[operations]]
include-path-regex = "^/api/v1/users/\\\\{uid\\\\}"
parameters = { "path.uid" = { dictionary = "uid", probability = 0.8 } }
[[operations]]
include-path-regex = "^/api/v1/tasks/\\\\{tid\\\\}"
parameters = { "path.tid" = { dictionary = "task", probability = 0.8 } }
[[operations]]
include-path-regex = "^/api/v1/rotation-runs/"
parameters = { "path.id" = { dictionary = "run", probability = 0.8 } }
[[operations]]
include-path-regex = "^/api/v1/integrity-runs/"
parameters = { "path.id" = { dictionary = "check", probability = 0.8 } }
TOML

# The session's own user is never changed or deleted (the hook swaps it for fuzzuser).
export PYTHONPATH="$HERE" SCHEMATHESIS_HOOKS=fuzz_hooks CUSTODY_ADMIN_ID="$ADMIN" CUSTODY_SAFE_UID="$USER"
set +e
cd "$DIR"  # schemathesis keeps a cache in the working directory
python3 -m schemathesis.cli --config-file "$DIR/schemathesis.toml" run "$URL/openapi.json" --url "https://localhost:$PORT" \
	--tls-verify "$CA" -H "Authorization: Bearer $TOKEN" \
	--checks not_a_server_error,response_schema_conformance,content_type_conformance \
	--exclude-operation-id postAuthLogout --exclude-operation-id postAuthPassword --exclude-operation-id postAuthTotp \
	--exclude-operation-id postAuthTotpDisable --exclude-operation-id deleteUsersUid --exclude-operation-id deleteTokensTid \
	--workers 1 --max-examples "${CUSTODY_FUZZ_EXAMPLES:-25}" --phases "${CUSTODY_FUZZ_PHASES:-examples,fuzzing}" --seed "${CUSTODY_FUZZ_SEED:-4242}" \
	--request-timeout 30 --continue-on-failure --no-color >"$DIR/fuzz.log" 2>&1
rc=$?
set -e
tail -100 "$DIR/fuzz.log"
kill -0 "${PIDS[0]}" 2>/dev/null || { echo "api-fuzz: the server died: $(tail -20 "$DIR/stderr")" >&2; exit 1; }
if [ "$rc" -ne 0 ]; then echo "api-fuzz: schemathesis found problems (exit $rc)" >&2; exit 1; fi
echo "api-fuzz: passed (no 5xx, every answer matches the document)"
