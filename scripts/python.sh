#!/usr/bin/env bash
# The Python that has the test dependencies: the venv install-deps.sh made, else python3.
venv="${KAFKARS_CACHE:-$HOME/.cache/kafkars}/venv"
if [[ -x "$venv/bin/python" ]]; then
    exec "$venv/bin/python" "$@"
fi
exec python3 "$@"
