#!/usr/bin/env bash
# `make bench`: kafkars broker vs Apache Kafka (see scripts/bench-broker.py for the figures).
set -euo pipefail
cd "$(dirname "$0")/.."
export KAFKARS_BIN="${KAFKARS_BIN:-$PWD/target/release/kafkars}"
exec scripts/python.sh scripts/bench-broker.py "$@"
