#!/usr/bin/env bash
# A candidate for the next default adapter, not shipped (MODEL_CARD.md, "Training it further"):
# the default's recipe (train/recipe.sh) with three larger open sets mixed in from the first
# step, so new label sets do not unsettle the old ones as the CPU tries that added them later
# did: MultiCoNER II train (33 fine-grained types, named in words, half re-cased), Re-DocRED dev
# in the general schema (re and rc in the relations `re` offers by default) and GENEVA train
# (115 event types with FrameNet roles), at most CAP examples per task of each; 30% of entity-annotated
# sentences joined into passages of two to four, every mention labelled. Re-DocRED test, the
# CrossNER AI, literature and music splits and FewRel stay held out. A GPU run: trained like the
# default (train/aligned.yaml); on a CPU spread it over sittings with --time-limit/--resume.
# Usage: train/broad.sh [DATA_DIR] [RUN_DIR] [CAP] [ieclid train sft options: --time-limit M, --resume]
#        (defaults: ../shared/data runs/broad 3000)
set -euo pipefail
data=${1:-../shared/data}
run=${2:-runs/broad}
cap=${3:-3000}
work=$(mktemp -d)
source "$(dirname "$0")/recipe.sh"
aligned_data "$data" "$work" --passages 0.3
ieclid train data --rename 0.5 --merge 0.3 --passages 0.3 --cap "$cap" --seed 0 --out "$work/new.jsonl" \
    --source "$data/multiconer2_en/en-train90.conll:multiconer2" \
    --source "$data/redocred/dev_revised.json:general" \
    --source "$data/geneva/train_recovered.jsonl"
cat "$work"/{aligned,new}.jsonl > "$work/broad.jsonl"
sha256sum "$work/broad.jsonl"
ieclid train sft --data "$work/broad.jsonl" --base smollm2 --config train/aligned.yaml --out "$run" "${@:4}"
ieclid train export --run "$run"
