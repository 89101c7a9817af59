#!/bin/sh
# Runs the extension's .phpt suite.
#
#   php/run-tests.sh [path/to/kafkars.so]            all tests
#   php/run-tests.sh --valgrind [path/to/kafkars.so] memcheck subset
#
# Broker-dependent tests need KAFKARS_BROKERS=host:port (they SKIP without it);
# topic-creating tests also need the kafkars CLI (KAFKARS_BIN, or target/*/kafkars).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
valgrind=""
if [ "${1:-}" = "--valgrind" ]; then valgrind="-m"; shift; fi
so=${1:-$here/../target/debug/libkafkars_php.so}
so=$(cd "$(dirname "$so")" && pwd)/$(basename "$so")
runner=$(php-config --extension-dir)/build/run-tests.php
[ -f "$runner" ] || runner=/usr/lib/php/20220829/build/run-tests.php
if [ -n "$valgrind" ]; then
    set -- conf message_topic_partition kafka_error_exception reflection_signatures fork \
        producer_roundtrip producer_callback_exception kafka_consumer_roundtrip low_level_consumer
    tests=""
    for t in "$@"; do tests="$tests $here/tests/$t.phpt"; done
    # shellcheck disable=SC2086
    NO_INTERACTION=1 exec php "$runner" -q -m -d "extension=$so" $tests
fi
NO_INTERACTION=1 exec php "$runner" -q -d "extension=$so" "$here/tests"
