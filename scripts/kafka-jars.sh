#!/usr/bin/env bash
# The Kafka broker test/integration/server-kafka.test.ts starts in KRaft mode: org.apache.kafka:kafka_2.13 and its
# runtime dependencies from Maven Central, resolved by mvn into ~/.cache/perennial/kafka-<version>/libs once, so a
# fresh clone on this machine finds them again. The test runs it with `java -cp '<dir>/libs/*' kafka.Kafka`.
#   scripts/kafka-jars.sh          resolve the pinned version if it is missing
#   scripts/kafka-jars.sh --print  print the directory (the test reads the version from here)
set -euo pipefail
version=3.9.1
dir="${PERENNIAL_CACHE:-$HOME/.cache/perennial}/kafka-$version"
if [ "${1:-}" = "--print" ]; then echo "$dir"; exit 0; fi
[ -f "$dir/.complete" ] && exit 0
echo "kafka-jars: resolving org.apache.kafka:kafka_2.13:$version from Maven Central (once; cached in $dir)" >&2
start=$SECONDS
rm -rf "$dir"
mkdir -p "$dir/libs"
pom="$(mktemp -d)/pom.xml"
cat >"$pom" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>perennial.test</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
POM
mvn -B -q -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dir/libs"
rm -rf "$(dirname "$pom")"
touch "$dir/.complete"
echo "kafka-jars: ready in $((SECONDS - start)) s" >&2
