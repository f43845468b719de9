#!/usr/bin/env bash
# Reproduces ieclid's aligned default adapter (ieclid/adapters/smollm2-ie.gguf).
# Data: open-licence training and dev splits only (WNUT-17 train+dev, CrossNER politics and
# science train+dev, SemEval-2010 train, PHEE train, CaRB dev). CrossNER AI, literature and
# music and all of FewRel are left out: they are the held-out evaluation (MODEL_CARD.md).
# The data is built by train/recipe.sh (several seeds for CrossNER and SemEval, NER types
# renamed and merged). SFT takes about 6.5 minutes on one H100; on a 2-core CPU it takes days
# (spread it over sittings with --time-limit/--resume).
# Usage: train/aligned.sh [DATA_DIR] [RUN_DIR]     (defaults: ../shared/data runs/aligned)
set -euo pipefail
data=${1:-../shared/data}
run=${2:-runs/aligned}
work=$(mktemp -d)
source "$(dirname "$0")/recipe.sh"
aligned_data "$data" "$work"
ieclid train sft --data "$work/aligned.jsonl" --base smollm2 --config train/aligned.yaml --out "$run"
ieclid train export --run "$run"
