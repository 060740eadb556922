#!/bin/sh
# Docket's slash command side by side with a Bolt for Python app (app.py in this folder), on
# this machine: makes a Python virtual environment here (.venv, once) with slack_bolt and
# uvicorn from PyPI, builds Docket (release), and runs `docket bench --target peers`, which
# starts both servers and drives them with the same uniquely signed requests, in alternating
# turns, at 16 and 64 connections. Extra arguments go to `docket bench` (e.g. --rounds 5).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet slack_bolt uvicorn
fi
"$venv/bin/python" -c 'import slack_bolt, uvicorn; print("bolt", slack_bolt.version.__version__, "uvicorn", uvicorn.__version__)'
cd "$root"
cargo build --release -p docket
exec "${CARGO_TARGET_DIR:-$root/target}/release/docket" bench --target peers \
    --bolt-python "$venv/bin/python" --bolt-app "$here/app.py" "$@"
