#!/usr/bin/env bash
# Starts localstripe (a fake, stateful Stripe server from PyPI) on 127.0.0.1 for
# the stripe-types client tests.
#
# - Installs localstripe into ${PEERS_DIR}/localstripe-venv when it is not there
#   yet (idempotent; pip output goes to ${PEERS_DIR}/localstripe-install.log).
# - Starts it on a free port, waits until it answers, prints its base URL
#   (http://127.0.0.1:PORT) on stdout and leaves it running.
# - Writes its pid to ${PEERS_DIR}/localstripe.pid and its output to
#   ${PEERS_DIR}/localstripe.log. Stop it with: kill "$(cat "$PEERS_DIR/localstripe.pid")"
#
# Environment: PEERS_DIR (default <repo>/.peers), PYTHON (default python3),
# LOCALSTRIPE_VERSION (default 1.15.10), LOCALSTRIPE_PORT (default: a free port),
# LOCALSTRIPE_EXIT_WITH_PID (optional: the server exits within a second of that
# process ending, so a test run that started it cannot leave it behind).
#
# localstripe's own `localstripe --port N` entry point listens on every interface
# and first reloads the objects it pickled to /tmp/localstripe.pickle; this script
# runs the same aiohttp app on 127.0.0.1 only, starting empty.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
peers="${PEERS_DIR:-$repo/.peers}"
python="${PYTHON:-python3}"
version="${LOCALSTRIPE_VERSION:-1.15.10}"
venv="$peers/localstripe-venv"
pidfile="$peers/localstripe.pid"
logfile="$peers/localstripe.log"
mkdir -p "$peers"

fail() {
    echo "localstripe.sh: $*" >&2
    exit 1
}

if ! "$venv/bin/python" -c 'import localstripe' >/dev/null 2>&1; then
    command -v "$python" >/dev/null || fail "no $python to create the venv with (set PYTHON)"
    rm -rf "$venv"
    "$python" -m venv "$venv" >"$peers/localstripe-install.log" 2>&1 ||
        fail "could not create a venv at $venv (see $peers/localstripe-install.log)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "localstripe==$version" >>"$peers/localstripe-install.log" 2>&1 ||
        fail "pip could not install localstripe==$version (see $peers/localstripe-install.log)"
fi

port="${LOCALSTRIPE_PORT:-$("$venv/bin/python" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()')}"

# localstripe binds every interface by default; its aiohttp app is started here on
# 127.0.0.1 only, with the same setup as its own `localstripe` entry point.
nohup "$venv/bin/python" - "$port" >"$logfile" 2>&1 <<'PY' &
import asyncio
import os
import sys
from aiohttp import web
import localstripe.server as server

port = int(sys.argv[1])
app = server.app
watched = int(os.environ.get("LOCALSTRIPE_EXIT_WITH_PID") or 0)


async def exit_with_watched_process(_app):
    async def watch():
        while True:
            await asyncio.sleep(1)
            try:
                os.kill(watched, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass

    global watcher
    watcher = asyncio.get_running_loop().create_task(watch())


if watched:
    app.on_startup.append(exit_with_watched_process)
web.run_app(app, host="127.0.0.1", port=port, access_log=None)
PY
pid=$!
echo "$pid" >"$pidfile"

url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then
        fail "localstripe exited before answering (see $logfile): $(tail -n 5 "$logfile")"
    fi
    if "$venv/bin/python" -c '
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1] + "/v1/customers", timeout=1)
except urllib.error.HTTPError:
    pass
' "$url" >/dev/null 2>&1; then
        echo "$url"
        exit 0
    fi
    sleep 0.1
done
kill "$pid" 2>/dev/null || true
fail "localstripe did not answer on $url within 10 s (see $logfile)"
