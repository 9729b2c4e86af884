#!/bin/sh
# custody-agent installer: install | start | stop | remove | status (as root).
# Like PMP's installAgent-service.sh: copies the agent to $PREFIX and runs it as a systemd service;
# without systemd, start and stop manage a background process with a pid file.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${CUSTODY_AGENT_PREFIX:-/opt/custody-agent}
UNIT_DIR=${CUSTODY_AGENT_UNIT_DIR:-/etc/systemd/system}
UNIT=$UNIT_DIR/custody-agent.service
has_systemd() { [ -z "${CUSTODY_AGENT_NO_SYSTEMD:-}" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

case "${1:-}" in
install)
  [ -x "$HERE/custody-agent" ] || { echo "custody-agent binary missing from the bundle; copy it beside install.sh" >&2; exit 2; }
  mkdir -p "$PREFIX/data"
  chmod 0700 "$PREFIX" "$PREFIX/data"
  cp "$HERE/custody-agent" "$PREFIX/custody-agent"
  cp "$HERE/server.crt" "$PREFIX/server.crt"
  sed "s#^DataDir=.*#DataDir=$PREFIX/data#; s#^CACertificate=.*#CACertificate=$PREFIX/server.crt#" "$HERE/Agent.conf" > "$PREFIX/Agent.conf"
  chmod 0600 "$PREFIX/Agent.conf"
  mkdir -p "$UNIT_DIR"
  cat > "$UNIT" <<UNIT
[Unit]
Description=Custody agent (password resets on this host)
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=$PREFIX/custody-agent run --config $PREFIX/Agent.conf
Restart=always
RestartSec=10
KillSignal=SIGTERM
TimeoutStopSec=30

[Install]
WantedBy=multi-user.target
UNIT
  if has_systemd; then systemctl daemon-reload && systemctl enable custody-agent >/dev/null; fi
  echo "installed in $PREFIX"
  ;;
start)
  if has_systemd; then systemctl start custody-agent
  else
    nohup "$PREFIX/custody-agent" run --config "$PREFIX/Agent.conf" < /dev/null >> "$PREFIX/agent.log" 2>&1 &
    echo $! > "$PREFIX/agent.pid"
  fi
  echo started
  ;;
stop)
  if has_systemd; then systemctl stop custody-agent
  elif [ -f "$PREFIX/agent.pid" ]; then kill "$(cat "$PREFIX/agent.pid")" 2>/dev/null || true; rm -f "$PREFIX/agent.pid"
  fi
  echo stopped
  ;;
remove)
  "$0" stop >/dev/null 2>&1 || true
  if has_systemd; then systemctl disable custody-agent >/dev/null 2>&1 || true; fi
  rm -f "$UNIT"
  if has_systemd; then systemctl daemon-reload; fi
  rm -rf "$PREFIX"
  echo removed
  ;;
status)
  if has_systemd; then systemctl --no-pager status custody-agent
  elif [ -f "$PREFIX/agent.pid" ] && kill -0 "$(cat "$PREFIX/agent.pid")" 2>/dev/null; then echo "running (pid $(cat "$PREFIX/agent.pid"))"
  else echo "not running"; exit 3
  fi
  ;;
*)
  echo "usage: $0 install|start|stop|remove|status" >&2
  exit 2
  ;;
esac
