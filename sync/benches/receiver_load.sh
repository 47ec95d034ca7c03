#!/usr/bin/env bash
# Benchmarks the webhook receiver with the load generator, both on this machine over loopback:
#
#   1. maximum throughput: closed loop (--rate 0) at CONCURRENCY requests in flight;
#   2. latency at a fixed rate: open loop at RATE events/s for RATE_SECS seconds.
#
# Builds the release binaries, starts `stripe-sfdc-sync receiver` on a free port and, for each
# scenario, a fresh SQLite file (WAL, synchronous=FULL), warms it up, and prints the machine
# load and the report. The receiver is stopped and the temporary files removed on exit.
#
# Settings (environment): CONCURRENCY (64), MAX_EVENTS (100000), RATE (2000), RATE_SECS (20),
# RATE_CONCURRENCY (64), WARMUP_EVENTS (5000), RECEIVER_LOG (info: RUST_LOG of the receiver,
# whose log goes to a file), JSON (1 prints the reports as JSON).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
concurrency="${CONCURRENCY:-64}"
max_events="${MAX_EVENTS:-100000}"
rate="${RATE:-2000}"
rate_secs="${RATE_SECS:-20}"
rate_concurrency="${RATE_CONCURRENCY:-64}"
warmup_events="${WARMUP_EVENTS:-5000}"
receiver_log="${RECEIVER_LOG:-info}"
secret="whsec_receiver_load_benchmark"

cd "$root"
cargo build --quiet -p stripe-sfdc-sync --release --bin stripe-sfdc-sync --bin stripe-sfdc-loadgen
bin="${CARGO_TARGET_DIR:-$root/target}/release"

work="$(mktemp -d)"
receiver_pid=""
stop_receiver() {
    if [[ -n "$receiver_pid" ]] && kill -0 "$receiver_pid" 2>/dev/null; then
        kill -TERM "$receiver_pid" 2>/dev/null || true
        wait "$receiver_pid" 2>/dev/null || true
    fi
    receiver_pid=""
}
cleanup() {
    stop_receiver
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"

# Starts the receiver on a fresh database `$1` and waits until it answers.
start_receiver() {
    local database="$work/$1.db"
    # Only the settings given here: nothing inherited from the caller's environment.
    env -i PATH="$PATH" HOME="${HOME:-/tmp}" RUST_LOG="$receiver_log" \
        SYNC_DATABASE="$database" SYNC_LISTEN="127.0.0.1:$port" \
        STRIPE_WEBHOOK_SECRETS="$secret" \
        "$bin/stripe-sfdc-sync" receiver 2>"$work/$1.log" &
    receiver_pid=$!
    for _ in $(seq 1 200); do
        if curl -fsS "$url/health/live" >/dev/null 2>&1; then
            break
        fi
        if ! kill -0 "$receiver_pid" 2>/dev/null; then
            echo "the receiver exited:" >&2
            cat "$work/$1.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    curl -fsS "$url/health/live" >/dev/null
    echo "== receiver $url, database $database, RUST_LOG=$receiver_log, $(nproc) CPUs"
    echo "== warm-up: $warmup_events events, closed loop"
    loadgen --events "$warmup_events" --concurrency "$concurrency" --rate 0 >/dev/null
}

loadgen() {
    local format=()
    if [[ "${JSON:-0}" == 1 ]]; then
        format=(--json)
    fi
    STRIPE_WEBHOOK_SECRET="$secret" "$bin/stripe-sfdc-loadgen" --url "$url" "${format[@]}" "$@"
}

# Each scenario on its own database, after flushing the previous one's writes: the maximum
# throughput run writes several hundred megabytes, whose writeback would otherwise land in
# the middle of the latency run and stall its fsyncs.
start_receiver throughput
echo "== load: $(uptime)"
echo "== 1. maximum throughput: $max_events events, closed loop, concurrency $concurrency"
loadgen --events "$max_events" --concurrency "$concurrency" --rate 0
stop_receiver
sync

start_receiver latency
echo "== load: $(uptime)"
echo "== 2. latency at $rate events/s for $rate_secs s, open loop, concurrency $rate_concurrency"
loadgen --duration "$rate_secs" --rate "$rate" --concurrency "$rate_concurrency"
