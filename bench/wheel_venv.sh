#!/usr/bin/env bash
# Build papercli's wheel, install it into bench/out/venv (byte-compiled), print its papercli.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
rm -rf "$out/venv" "$out/dist"
python3 -m venv "$out/venv"
"$out/venv/bin/python" -m pip install --quiet build
"$out/venv/bin/python" -m build --wheel --outdir "$out/dist" . >/dev/null
"$out/venv/bin/python" -m pip install --quiet "$out"/dist/*.whl
"$out/venv/bin/python" -m compileall -q "$out/venv/lib" >/dev/null
echo "$PWD/$out/venv/bin/papercli"
