#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Loads the sample configuration when the database has no gateway yet (never touches an
# existing configuration):
#   orig1  origination  127.0.0.1 (any source port)       -- SIPp on this host may call in
#   term1  termination  127.0.0.1:5070 udp                -- first choice  (priority 10)
#   term2  termination  127.0.0.1:5080 udp                -- second choice (priority 20)
#   routes: prefix '' (every number) -> term1, term2
# Usage: sample-config.sh [SWCTL]   (the database: --db via SOFTSWITCH_DB, else the embedded
# cluster under SOFTSWITCH_STATE_DIR, as for swctl itself)
set -euo pipefail

swctl="${1:-swctl}"

count="$("$swctl" --json gateway list | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')"
if [ "$count" != "0" ]; then
    echo "sample-config: $count gateway(s) already configured; leaving the configuration alone"
    exit 0
fi

echo "sample-config: loading the sample configuration"
"$swctl" gateway add orig1 --role origination --host 127.0.0.1
"$swctl" gateway add term1 --role termination --host 127.0.0.1:5070 --transport udp
"$swctl" gateway add term2 --role termination --host 127.0.0.1:5080 --transport udp
"$swctl" route add --prefix '' --gateway term1 --priority 10
"$swctl" route add --prefix '' --gateway term2 --priority 20
"$swctl" gateway list
"$swctl" route list
