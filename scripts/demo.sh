#!/usr/bin/env bash
# `make demo`: start `kafkars broker` on a temporary data dir, create a two-partition topic,
# produce, consume each partition, show the messages, stop the broker with SIGTERM and clean
# up, with the PHP examples on target/release/kafkars.so.
# Leaves no process and no file behind, so it can run twice in a row.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${KAFKARS_BIN:-$PWD/target/release/kafkars}"
SO="$PWD/target/release/kafkars.so"
TOPIC="${DEMO_TOPIC:-demo}"
COUNT="${DEMO_COUNT:-10}"
[[ -x "$BIN" ]] || { echo "demo: $BIN not built (run make build)" >&2; exit 1; }
[[ -f "$SO" ]] || { echo "demo: $SO not built (run make build; needs php8.2-dev)" >&2; exit 1; }

work="$(mktemp -d -t kafkars-demo.XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
bootstrap="127.0.0.1:$port"
export KAFKARS_BROKERS="$bootstrap"

# Poll with a deadline until a command succeeds.
wait_for() {
    local what="$1" deadline=$((SECONDS + $2)); shift 2
    until "$@" 2>/dev/null; do
        if ((SECONDS >= deadline)); then echo "demo: timed out waiting for $what" >&2; return 1; fi
        sleep 0.1
    done
}

echo "==> kafkars broker --listen $bootstrap --data-dir $work/data"
"$BIN" broker --listen "$bootstrap" --advertise "$bootstrap" --data-dir "$work/data" \
    >"$work/broker.log" 2>&1 &
broker=$!
pids+=("$broker")
wait_for "the broker to listen on $bootstrap" 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || {
    cat "$work/broker.log" >&2; exit 1; }

echo "==> create topic $TOPIC with 2 partitions"
"$BIN" topics create "$TOPIC" --partitions 2 --bootstrap-server "$bootstrap"
wait_for "topic metadata" 30 bash -c "kcat -b $bootstrap -L -t $TOPIC -m 5 | grep -q 'with 2 partitions'"

PHP=(php -d "extension=$SO")
# Consumers first, so the messages are seen arriving while the producer runs.
consumers=()
for p in 0 1; do
    echo "==> php php/examples/consumer.php $p $TOPIC (partition $p, for 6 s)"
    "${PHP[@]}" php/examples/consumer.php "$p" "$TOPIC" 0 6 "$bootstrap" | sed -u "s/^/    [p$p] /" &
    consumers+=("$!")
    pids+=("$!")
done
echo "==> php php/examples/producer.php $TOPIC $COUNT"
"${PHP[@]}" php/examples/producer.php "$TOPIC" "$COUNT" "$bootstrap"
for pid in "${consumers[@]}"; do wait "$pid"; done

echo "==> stop the broker (SIGTERM)"
kill -TERM "$broker"
deadline=$((SECONDS + 15))
while kill -0 "$broker" 2>/dev/null; do
    if ((SECONDS >= deadline)); then echo "demo: broker did not stop within 15 s" >&2; exit 1; fi
    sleep 0.1
done
set +e; wait "$broker"; rc=$?; set -e
pids=()
echo "==> broker exited with status $rc; removing $work"
exit "$rc"
