#!/bin/sh
# Custody custom plugin example (shell): keeps an application's accounts in a credential file,
# one "login:salt:sha256(salt+password)" line each. The file is the reset config option "file".
#
# Protocol: one ResetJob JSON on stdin; one answer on stdout:
#   {"ok": true, "message": "..."}  or  {"ok": false, "code": "<ResetFailure code>", "message": "..."}
# Passwords only ever travel through stdin and pipes to shell built-ins: never argv, never a log.
# Needs: jq, sha256sum, od.
set -u
umask 077

req=$(cat)
field() { printf '%s' "$req" | jq -r "$1 // empty"; }
answer() { jq -cn --arg code "$1" --arg msg "$2" 'if $code == "" then {ok: true, message: $msg} else {ok: false, code: $code, message: $msg} end'; exit 0; }
hash() { printf '%s%s' "$1" "$2" | sha256sum | cut -d' ' -f1; }

op=$(field .operation)
file=$(field .settings.options.file)
login=$(field .account.LOGINNAME)
[ -n "$file" ] || answer unsupported "set the reset config option 'file' to the credential file"
[ -n "$login" ] || answer protocolError "the request has no LOGINNAME"
case "$login" in *:*) answer unsupported "login names with ':' cannot be stored in the credential file" ;; esac

if [ "$op" = notify ]; then
    printf '%s changed %s on %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$login" "$(field .resource.RESOURCENAME)" >> "$file.log" \
        || answer unreachable "cannot write $file.log"
    answer "" "noted in $file.log"
fi

[ -r "$file" ] || answer unreachable "cannot read $file"
line=$(while IFS=: read -r l s h; do [ "$l" = "$login" ] && printf '%s:%s' "$s" "$h"; done < "$file")
[ -n "$line" ] || answer authenticationFailed "no account $login in $file"
salt=${line%%:*}
stored=${line#*:}
[ "$(hash "$salt" "$(field .currentPassword)")" = "$stored" ] || answer authenticationFailed "the password of $login does not match"

case "$op" in
verify) answer "" "the password of $login works" ;;
reset)
    new=$(field .newPassword)
    [ -n "$new" ] || answer protocolError "the request has no newPassword"
    salt=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
    tmp="$file.tmp.$$"
    { while IFS=: read -r l s h; do [ "$l" = "$login" ] || printf '%s:%s:%s\n' "$l" "$s" "$h"; done < "$file"
      printf '%s:%s:%s\n' "$login" "$salt" "$(hash "$salt" "$new")"; } > "$tmp" || answer unreachable "cannot write $tmp"
    mv -f "$tmp" "$file" || answer unreachable "cannot replace $file"
    answer "" "password of $login changed in $file" ;;
*) answer unsupported "operation '$op' is not supported" ;;
esac
