#!/usr/bin/env bash
# Regenerates requirements.lock (core + dev: README's setup) and requirements-ci.lock (core + dev +
# embeddings: .ci/run) from the environment the tests passed in, with a sha256 for every file.
# Run it from the project's activated virtual environment after a change of pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The tested versions, as constraints: the lock holds what was tested, nothing newer.
"$python" -m pip freeze --exclude-editable > "$work/tested.txt"

# uv in a throwaway environment, so the project's stays as tested.
"$python" -m venv "$work/tools"
"$work/tools/bin/pip" install -q uv

# torch's CPU build (2.13.0+cpu) is a local wheel here, found through pip's find-links; uv reads no pip config.
find_links=()
for folder in $("$python" -m pip config get global.find-links 2>/dev/null || true); do
  find_links+=(--find-links "$folder")
done

compile() {
  "$work/tools/bin/uv" pip compile --quiet --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
    --custom-compile-command "bash scripts/lock.sh" --constraint "$work/tested.txt" "${find_links[@]}" "$@" pyproject.toml
}
compile --extra dev --output-file requirements.lock
compile --extra dev --extra embeddings --output-file requirements-ci.lock
# The constraints file lives in a temporary folder: name what it was instead.
sed -i "s|$work/tested.txt|the tested environment (pip freeze)|g" requirements.lock requirements-ci.lock
