# Shared by the bench scripts (sourced): the server and its admin session.
# start_custody starts "$BIN" on 127.0.0.1:$PORT with $DIR/data and $DIR/custody.yaml, waits for it,
# logs in as the bootstrap admin and changes its password; it sets URL, CA and TOKEN and adds the
# server's pid to PIDS. api is curl against it with the token.
api() { curl -sf --cacert "$CA" -H "Content-Type: ${CT:-application/json}" ${TOKEN:+-H "Authorization: Bearer $TOKEN"} "$@"; }

start_custody() {
  "$BIN" serve --data-dir "$DIR/data" --host 127.0.0.1 --port "$PORT" --config "$DIR/custody.yaml" >"$DIR/stdout" 2>"$DIR/stderr" & PIDS+=($!)
  for _ in $(seq 1 300); do grep -q "listening on" "$DIR/stdout" 2>/dev/null && break; sleep 0.1; done
  URL="https://localhost:$PORT/api/v1"
  CA="$DIR/data/tls/server.crt"
  unset TOKEN
  local initial
  initial=$(sed -n 's/^initial admin password: //p' "$DIR/stdout")
  TOKEN=$(api -d "{\"username\":\"admin\",\"password\":\"$initial\"}" "$URL/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  api -d "{\"currentPassword\":\"$initial\",\"newPassword\":\"Bench-Keeper-Pass-1\"}" "$URL/auth/password" >/dev/null
}
