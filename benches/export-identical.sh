#!/usr/bin/env bash
# The static export of the same content, built by the code of two git
# revisions, compared byte for byte:
#
#   benches/export-identical.sh BASE [REV]     (REV defaults to HEAD)
#
# Each revision's source is taken with `git archive` (no checkout, the
# working tree is left alone) and built in debug mode, with CARGO_TARGET_DIR
# if set. Both binaries then export the same folders, the working tree's
# content/ and static/ unless CONTENT and STATIC say otherwise, with the
# data folder DATA (default: an empty one, so no comments), so only the code
# differs. `--allow-placeholders` because the real site.toml still carries
# sample settings.
#
# Prints `identical` and exits 0, or lists the differences and exits 1.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BASE="${1:?usage: $0 BASE [REV]}"
REV="${2:-HEAD}"
CONTENT="${CONTENT:-$ROOT/content}"
STATIC="${STATIC:-$ROOT/static}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
DATA="${DATA:-$WORK/data}"
mkdir -p "$DATA"

export_at() {
  local rev="$1" name="$2" commit
  commit="$(git -C "$ROOT" rev-parse --verify "$rev^{commit}")"
  echo "==> $name: $rev ($(git -C "$ROOT" log --oneline -1 "$commit"))" >&2
  mkdir -p "$WORK/src-$name"
  git -C "$ROOT" archive "$commit" | tar -x -C "$WORK/src-$name"
  # `git archive` gives files their commit's time, and cargo decides what
  # to rebuild by time (and names a package's artifacts the same wherever
  # it lives): without this, a shared target folder would hand back the
  # other revision's build.
  find "$WORK/src-$name" -type f -exec touch {} +
  # The binary is copied out at once: the next build reuses the target
  # folder and would replace it.
  (cd "$WORK/src-$name" && cargo build --quiet --bin clinic-site)
  local target="${CARGO_TARGET_DIR:-$WORK/src-$name/target}"
  cp "$target/debug/clinic-site" "$WORK/clinic-site-$name"
  "$WORK/clinic-site-$name" build --allow-placeholders --content "$CONTENT" --static "$STATIC" --data "$DATA" --out "$WORK/out-$name" >&2
}

export_at "$BASE" base
export_at "$REV" rev
if diff -r "$WORK/out-base" "$WORK/out-rev" >"$WORK/diff.txt"; then
  echo "identical: $(find "$WORK/out-rev" -type f | wc -l) files"
else
  echo "the exports differ:"
  head -n 50 "$WORK/diff.txt"
  exit 1
fi
