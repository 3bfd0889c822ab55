#!/usr/bin/env bash
# Table 5 on this machine: teacher, Small and Base at 288 px / 64 tokens with random weights (docs/performance.md).
# Usage: [THREADS=1] [BLAS_THREADS=1] scripts/bench.sh [extra bench options, e.g. --batch 4 --repeats 3 --json]
# One ND4J thread by default: on this 2-core machine two OpenMP threads made the teacher's batch-1 forward 1.85x slower
# (5661 vs 3060 ms, half the CPU time in the kernel) while sgemm gained only 8 % (65.1 vs 60.4 GFLOP/s).
# JVM: a small heap (the weights and activations live off-heap in ND4J's native buffers), and JavaCPP limits set
# deliberately so that a leak shows up as an error, not as swapping.
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=${JAR:-target/m3ae-distill.jar}
[ -f "$JAR" ] || mvn -B -q -o package -DskipTests
echo "# $(date -u +%FT%TZ) $(uname -n) load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exec java -Xmx3g -Dorg.bytedeco.javacpp.maxbytes=12G -Dorg.bytedeco.javacpp.maxphysicalbytes=18G ${JAVA_OPTS:-} \
  -jar "$JAR" bench \
  --models configs/models/teacher-m3ae.yaml,configs/models/student-small.yaml,configs/models/student-base.yaml \
  --threads "${THREADS:-1}" --blas-threads "${BLAS_THREADS:-1}" "$@"
