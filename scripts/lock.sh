#!/usr/bin/env bash
# Regenerates requirements.lock (core + dev: README's setup) and requirements-ci.lock (core + dev +
# embeddings: .ci/run) from the environment the tests passed in, with a sha256 for every file.
# Run it from the project's activated virtual environment after a change of pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The tested versions, as constraints: the lock may add nothing newer than what was tested.
"$python" -m pip freeze --exclude-editable | grep -v -E '^(pip-tools|build|pyproject_hooks|wheel)==' > "$work/tested.txt"

# pip-tools in a throwaway environment of the same Python, so the project's stays as tested.
"$python" -m venv "$work/tools"
"$work/tools/bin/pip" install -q pip-tools

compile() {
  "$work/tools/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
    --no-emit-find-links --constraint "$work/tested.txt" "$@" pyproject.toml
}
compile --extra dev --output-file requirements.lock
compile --extra dev --extra embeddings --output-file requirements-ci.lock
