#!/usr/bin/env bash
# with-broker.sh CMD [ARGS...]: run CMD with a fresh `kafkars broker` on a free port and a
# temporary data dir, exported as KAFKARS_BROKERS; then stop the broker (SIGTERM, bounded)
# and remove the data dir. Exit status is CMD's.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${KAFKARS_BIN:-$PWD/target/release/kafkars}"
[[ -x "$BIN" ]] || { echo "with-broker: $BIN not built (run make build)" >&2; exit 1; }
work="$(mktemp -d -t kafkars-broker.XXXXXX)"
broker=""
cleanup() {
    if [[ -n "$broker" ]] && kill -0 "$broker" 2>/dev/null; then
        kill -TERM "$broker" 2>/dev/null || true
        local deadline=$((SECONDS + 15))
        while kill -0 "$broker" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
        kill -KILL "$broker" 2>/dev/null || true
        wait "$broker" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export KAFKARS_BROKERS="127.0.0.1:$port"
"$BIN" broker --listen "$KAFKARS_BROKERS" --advertise "$KAFKARS_BROKERS" \
    --data-dir "$work/data" >"$work/broker.log" 2>&1 &
broker=$!
deadline=$((SECONDS + 30))
until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if ! kill -0 "$broker" 2>/dev/null || ((SECONDS >= deadline)); then
        echo "with-broker: broker did not start on $KAFKARS_BROKERS" >&2
        cat "$work/broker.log" >&2
        exit 1
    fi
    sleep 0.1
done
set +e
"$@"
rc=$?
set -e
if ((rc != 0)); then
    echo "with-broker: command exited $rc; broker log tail:" >&2
    tail -n 20 "$work/broker.log" >&2
fi
exit "$rc"
