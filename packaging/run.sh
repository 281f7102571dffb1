#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# THE run command: bash packaging/run.sh
#
# Installs missing Debian packages, builds into build/ (override with BUILD_DIR), prepares the
# database (the private PostgreSQL cluster under the state directory, or SOFTSWITCH_DB when
# set), loads a sample configuration when there is no gateway yet, and runs softswitchd in the
# foreground (Ctrl-C / SIGTERM stops it cleanly).
#
# Environment:
#   SOFTSWITCH_STATE_DIR  state directory (default /var/lib/softswitch): embedded PostgreSQL
#                         in <dir>/pg, CDR spool in <dir>/spool
#   SOFTSWITCH_DB         libpq DSN of an external PostgreSQL instead of the embedded one
#   SOFTSWITCH_SIP        listen points (default udp:127.0.0.1:5060,tcp:127.0.0.1:5060)
#   SOFTSWITCH_HTTP       HTTP API address (default 127.0.0.1:8088)
#   SOFTSWITCH_LOG_LEVEL  trace|debug|info|warn|error (default info)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
build="$(bash packaging/build.sh | tail -n 1)"

softswitchd="$build/switch/softswitchd"
swctl="$build/switch/swctl/swctl"

state="${SOFTSWITCH_STATE_DIR:-/var/lib/softswitch}"
mkdir -p "$state"
state="$(cd "$state" && pwd)"
export SOFTSWITCH_STATE_DIR="$state"
export SOFTSWITCH_SCHEMA_DIR="$repo/schema"
sip="${SOFTSWITCH_SIP:-udp:127.0.0.1:5060,tcp:127.0.0.1:5060}"
http="${SOFTSWITCH_HTTP:-127.0.0.1:8088}"

db_args=()
if [ -n "${SOFTSWITCH_DB:-}" ]; then
    db_args=(--db "$SOFTSWITCH_DB")
    echo "run.sh: using the database SOFTSWITCH_DB"
else
    echo "run.sh: using the embedded PostgreSQL under $state/pg"
fi

"$swctl" db migrate
bash packaging/sample-config.sh "$swctl"

sip_port="${sip##*:}"
sip_port="${sip_port%%,*}"
cat <<MSG

==============================================================================================
softswitchd is starting on $sip (state: $state)

Place a test call (in two other terminals, from $repo):
  # the termination gateway term1 (127.0.0.1:5070): answers, waits for the caller's BYE
  sipp -sf tests/sipp/scenarios/uas_answer.xml -i 127.0.0.1 -p 5070 -m 1
  # the caller (origination gateway orig1 = 127.0.0.1): calls 15551234567, hangs up after 1 s
  sipp -sf tests/sipp/scenarios/uac_call.xml -s 15551234567 127.0.0.1:$sip_port -i 127.0.0.1 -p 5062 -m 1

Then look at the CDR (same state directory, so no --db needed):
  SOFTSWITCH_STATE_DIR=$state $swctl cdr query --limit 5

Web page: open http://$http/ and paste the token from $state/http.token (written at start).
HTTP API on http://$http/api/v1/ (same token):
  SOFTSWITCH_HTTP_TOKEN=\$(cat $state/http.token) $swctl calls --api http://$http
  curl -H "Authorization: Bearer \$(cat $state/http.token)" http://$http/metrics
==============================================================================================

MSG

exec "$softswitchd" "${db_args[@]}" --state-dir "$state" --spool "$state/spool" --sip "$sip" \
    --http "$http" --node "$(hostname)" --log-level "${SOFTSWITCH_LOG_LEVEL:-info}"
