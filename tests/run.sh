#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs and starts every peer the tests talk to
# (Node 22 + the Salesforce CLI, the Metadata API WSDL, localstripe), then runs every check.
# Peers are cached under $PEERS_DIR (default .peers/), so later runs start in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
export PEERS_DIR="${PEERS_DIR:-$PWD/.peers}"
mkdir -p "$PEERS_DIR"

step() { printf '\n== %s\n' "$*"; }
started=$(date +%s)

step "formatting (cargo fmt --check)"
cargo fmt --all -- --check

step "force-app converts offline with the Salesforce CLI"
bash tests/peers/sf-convert.sh

if [ -f tests/peers/metadata-wsdl.sh ]; then
  step "Metadata API WSDL 47.0 for the schema check"
  SFDC_METADATA_WSDL="$(bash tests/peers/metadata-wsdl.sh)"
  export SFDC_METADATA_WSDL
  echo "$SFDC_METADATA_WSDL"
fi

if [ -f tests/peers/localstripe.sh ]; then
  step "localstripe on 127.0.0.1"
  LOCALSTRIPE_URL="$(bash tests/peers/localstripe.sh)"
  export LOCALSTRIPE_URL
  echo "$LOCALSTRIPE_URL"
  stop_localstripe() {
    if [ -f "$PEERS_DIR/localstripe.pid" ]; then
      kill "$(cat "$PEERS_DIR/localstripe.pid")" 2>/dev/null || true
      rm -f "$PEERS_DIR/localstripe.pid"
    fi
  }
  trap stop_localstripe EXIT
fi

step "clippy (all targets, warnings denied)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "tests"
cargo test --workspace

echo
echo "test suite finished in $(( $(date +%s) - started ))s"
