#!/usr/bin/env bash
# Install what `make build`, `make test`, `make demo` and `make bench` need on Debian 12.
# Idempotent and quick when everything is present (a few checks, no network).
#   apt:  php8.2-cli php8.2-dev libclang-dev clang kcat librdkafka-dev openjdk-17 maven composer ...
#   pip:  confluent-kafka kafka-python + codecs (lz4, python-snappy, zstandard), pytest
#   jars: Apache Kafka from Maven Central (scripts/fetch-kafka.sh)
# Python packages go to the interpreter `scripts/python.sh` picks: the current python3 if it
# accepts pip installs, else a venv in ~/.cache/kafkars/venv (Debian's python is
# "externally managed").
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PKGS=(php8.2-cli php8.2-dev libclang-dev clang kcat librdkafka-dev
          openjdk-17-jre-headless maven python3 python3-pip python3-venv
          build-essential pkg-config curl ca-certificates composer
          php8.2-fpm libfcgi-bin valgrind openssl)

missing=()
for pkg in "${APT_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
done
# A python3/java/mvn from elsewhere (pyenv, sdkman) is fine too.
filtered=()
for pkg in "${missing[@]}"; do
    case "$pkg" in
        python3) command -v python3 >/dev/null && continue ;;
        python3-pip) python3 -m pip --version >/dev/null 2>&1 && continue ;;
        python3-venv) python3 -c "import venv, ensurepip" 2>/dev/null && continue ;;
        openjdk-17-jre-headless) command -v java >/dev/null && continue ;;
        maven) command -v mvn >/dev/null && continue ;;
    esac
    filtered+=("$pkg")
done
if ((${#filtered[@]})); then
    echo "install-deps: apt-get install ${filtered[*]}" >&2
    SUDO=""
    [[ $(id -u) -eq 0 ]] || SUDO="sudo"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${filtered[@]}" >&2
fi

if ! command -v cargo >/dev/null && [[ ! -x "$HOME/.cargo/bin/cargo" ]]; then
    echo "install-deps: installing Rust (rustup, minimal profile)" >&2
    curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal >&2
fi
export PATH="$HOME/.cargo/bin:$PATH"
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt >&2

PY_MODULES="confluent_kafka kafka lz4 snappy zstandard pytest pytest_timeout"
PIP_PKGS="confluent-kafka kafka-python lz4 python-snappy cramjam zstandard pytest pytest-timeout"
if ! scripts/python.sh -c "import ${PY_MODULES// /, }" 2>/dev/null; then
    echo "install-deps: pip install $PIP_PKGS" >&2
    if ! python3 -m pip install -q $PIP_PKGS >&2 2>/dev/null; then
        venv="${KAFKARS_CACHE:-$HOME/.cache/kafkars}/venv"
        python3 -m venv --system-site-packages "$venv" >&2
        "$venv/bin/pip" install -q $PIP_PKGS >&2
    fi
    scripts/python.sh -c "import ${PY_MODULES// /, }"
fi

scripts/fetch-kafka.sh >/dev/null
