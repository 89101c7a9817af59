#!/usr/bin/env bash
# Fetch Apache Kafka (broker, Java client, CLI and perf tools) from Maven Central into
# $KAFKA_LIBS (default ~/.cache/kafkars/kafka-$KAFKA_VERSION/libs). Idempotent: a marker file
# written after a complete copy makes the second run return at once. Never commit the jars.
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
CACHE="${KAFKARS_CACHE:-$HOME/.cache/kafkars}"
LIBS="${KAFKA_LIBS:-$CACHE/kafka-$KAFKA_VERSION/libs}"
MARKER="$LIBS/.complete-$KAFKA_VERSION"

if [[ -f "$MARKER" ]]; then
    echo "$LIBS"
    exit 0
fi

command -v mvn >/dev/null || { echo "fetch-kafka: mvn not found (apt-get install maven)" >&2; exit 1; }
command -v java >/dev/null || { echo "fetch-kafka: java not found (apt-get install openjdk-17-jre-headless)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A throwaway pom: the broker (kafka_2.13 brings the KRaft server, storage, metadata, raft),
# kafka-tools (console producer/consumer, perf tools, TopicCommand), and a log4j2 binding for
# SLF4J 1.7 (what Kafka 4.1 uses) so the tools log quietly instead of warning about it.
cat > "$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kafkars</groupId>
  <artifactId>kafka-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-clients</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
POM
mkdir -p "$LIBS"
mvn -q -B -f "$work/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIBS" >&2
# A quiet log4j2 config next to the jars: warnings only, to stderr.
cat > "$LIBS/../log4j2.properties" <<'L4J'
status = error
appender.console.type = Console
appender.console.name = STDERR
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = STDERR
L4J
ls "$LIBS"/kafka_2.13-"$KAFKA_VERSION".jar "$LIBS"/kafka-tools-"$KAFKA_VERSION".jar >/dev/null
touch "$MARKER"
echo "$LIBS"
