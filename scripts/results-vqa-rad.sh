#!/usr/bin/env bash
# The VQA-RAD rows of docs/results.md: fine-tune, select on the carved validation split, score test once.
# Usage: scripts/results-vqa-rad.sh <run config> <init: none | runs/<pretrain>/model.safetensors> <max steps> <seeds...>
# CLASSES/CP: a private build (the commands in docs/results.md), so rebuilds of target/ do not disturb a long run.
set -euo pipefail
cfg=$1; init=$2; steps=$3; shift 3
name=$(basename "$cfg" .yaml)
tag=${TAG:-$(basename "$(dirname "$init")")}
[ "$init" = none ] && tag=scratch
JAVA="java -Xmx3g -cp ${CLASSES:-target/classes}:${CP:-$(cat /tmp/ft-cp.txt)} org.m3ae.cli.Main --threads ${THREADS:-1}"
for seed in "$@"; do
  out=runs/$name-$tag-s$seed
  $JAVA finetune --config "$cfg" --init "$init" --seed "$seed" --max-steps "$steps" --out "$out"
  $JAVA evaluate --config "$cfg" --checkpoint "$out" --split test --baseline
done
