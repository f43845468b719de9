#!/usr/bin/env bash
# Reproduces ieclid's aligned default adapter (ieclid/adapters/smollm2-ie.gguf).
# Data: open-licence training and dev splits only (WNUT-17 train+dev, CrossNER politics and
# science train, SemEval-2010 train, PHEE train+dev, CaRB dev). CrossNER AI, literature and
# music and all of FewRel are left out: they are the held-out evaluation (MODEL_CARD.md).
# NER is built three times with different seeds (other instructions, option orders, answer
# formats), so it weighs about as much as the event tasks. SFT takes about 6 minutes on one
# H100; on a 2-core CPU it takes days (spread it over sittings with --time-limit/--resume).
# Usage: train/aligned.sh [DATA_DIR] [RUN_DIR]     (defaults: ../shared/data runs/aligned)
set -euo pipefail
data=${1:-../shared/data}
run=${2:-runs/aligned}
work=$(mktemp -d)
wnut=(--source "$data/wnut17/train_first2000.conll:wnut17" --source "$data/wnut17/dev.conll:wnut17")
crossner=(--source "$data/crossner/politics/train.txt:crossner_politics"
          --source "$data/crossner/science/train.txt:crossner_science")
ieclid train data --out "$work/all.jsonl" --seed 0 "${wnut[@]}" "${crossner[@]}" \
    --source "$data/semeval2010_task8/TRAIN_FILE_first2000.TXT:semeval2010" \
    --source "$data/phee/train_first2000.jsonl:phee" --source "$data/phee/dev.jsonl:phee" \
    --source "$data/carb/data/gold/dev.tsv"
for seed in 1 2; do ieclid train data --out "$work/wnut$seed.jsonl" --seed $seed "${wnut[@]}"; done
for seed in 1 2; do ieclid train data --out "$work/crossner$seed.jsonl" --seed $seed "${crossner[@]}"; done
cat "$work"/{all,wnut1,wnut2,crossner1,crossner2}.jsonl > "$work/aligned.jsonl"
ieclid train sft --data "$work/aligned.jsonl" --base smollm2 --config train/aligned.yaml --out "$run"
ieclid train export --run "$run"
