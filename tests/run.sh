#!/usr/bin/env bash
# Runs every test: formatting and lints, the Rust unit and integration
# tests, then the browser tests in headless Chromium. Installs what a fresh
# Debian machine lacks.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
if [ -z "${CHROME_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then missing+=(chromium); fi
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> Installing ${missing[*]} from Debian's packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
export CHROME_PATH="${CHROME_PATH:-$(command -v chromium)}"

# Formatting and lints come first: they are quick and say exactly what to
# change. rustfmt and clippy ship with the Rust toolchain (rustup's default
# profile); add them where a minimal toolchain left them out.
for tool in rustfmt clippy; do
  if ! cargo "${tool/rustfmt/fmt}" --version >/dev/null 2>&1; then
    echo "==> Adding the $tool component"
    rustup component add "$tool"
  fi
done
echo "==> Formatting (cargo fmt --check)"
cargo fmt --check
echo "==> Lints (cargo clippy, warnings are errors)"
cargo clippy --locked --all-targets -- -D warnings

echo "==> Rust tests"
cargo test --locked

echo "==> Browser tests (headless Chromium at $CHROME_PATH)"
cargo build --locked --quiet
# Honour CARGO_TARGET_DIR: the binary is where cargo put it.
export CLINIC_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/clinic-site"
cd tests/e2e
npm ci --no-audit --no-fund --loglevel=error
npm test
