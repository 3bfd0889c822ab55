#!/usr/bin/env bash
# The full comparison of docs/results.md, for a machine with the time for it (see the measured step times there):
# pre-train the MedPix teacher, distil the student from it, pre-train the same student without KD, then fine-tune
# each on VQA-RAD for 3 seeds (about 2.5 h on the 2-core machine, two runs side by side; docs/results.md) (validation carved from train), score test once, and retrieval R@K on MedPix dev.
# CLASSES/CP: a private build, e.g. CLASSES=/tmp/ft-classes CP=$(cat /tmp/ft-cp.txt).
set -euo pipefail
JAVA="java -Xmx6g -cp ${CLASSES:-target/classes}:${CP:-$(cat /tmp/ft-cp.txt)} org.m3ae.cli.Main --threads ${THREADS:-1}"
STEPS=${VQA_STEPS:-258}   # 3 epochs of 86 steps (batch 32)
$JAVA pretrain --config configs/runs/medpix-teacher.yaml
$JAVA pretrain --config configs/runs/medpix-distill.yaml
$JAVA pretrain --config configs/runs/medpix-student-nokd.yaml
export CLASSES CP
scripts/results-vqa-rad.sh configs/runs/vqa-rad-teacher.yaml runs/medpix-teacher/model.safetensors "$STEPS" 0 1 2
scripts/results-vqa-rad.sh configs/runs/vqa-rad-student.yaml runs/medpix-distill/model.safetensors "$STEPS" 0 1 2
scripts/results-vqa-rad.sh configs/runs/vqa-rad-student.yaml runs/medpix-student-nokd/model.safetensors "$STEPS" 0 1 2
scripts/results-vqa-rad.sh configs/runs/vqa-rad-student.yaml none "$STEPS" 0 1 2
for init in medpix-distill medpix-student-nokd; do
  $JAVA finetune --config configs/runs/retrieval-medpix.yaml --init runs/$init/model.safetensors --max-steps 20 --out runs/retrieval-medpix-$init
  $JAVA evaluate --config configs/runs/retrieval-medpix.yaml --checkpoint runs/retrieval-medpix-$init --split dev --rerank-k 10
done
