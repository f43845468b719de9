#!/usr/bin/env bash
# A candidate for the next default adapter, not shipped (MODEL_CARD.md, "Training it further"):
# the default's recipe (train/recipe.sh) with three larger open sets mixed in from the first
# step, so new label sets do not unsettle the old ones as the CPU tries that added them later
# did. The main aim is NER on label sets it has not seen, so MultiCoNER II train (33
# fine-grained types, named in words, half re-cased) gets the full cap of 5,000; Re-DocRED dev
# in the general schema (re and rc in the relations `re` offers by default) 2,000 per task, as
# its rc pairs cost SemEval in a CPU try; GENEVA train (115 event types, FrameNet roles) 1,500
# per task. 30% of entity-annotated sentences are joined into passages of two to four, every
# mention labelled. Re-DocRED test, the CrossNER AI, literature and music splits and FewRel
# stay held out. A GPU run, trained like the default (train/aligned.yaml); extra arguments go
# to `ieclid train sft` (--time-limit M and --resume spread it over sittings).
# Usage: train/broad.sh [DATA_DIR] [RUN_DIR] [ieclid train sft options]
#        (defaults: ../shared/data runs/broad)
set -euo pipefail
data=${1:-../shared/data}
run=${2:-runs/broad}
work=$(mktemp -d)
source "$(dirname "$0")/recipe.sh"
passages=(--passages 0.3)
aligned_data "$data" "$work" "${passages[@]}"
more=("${recipe_names[@]}" "${passages[@]}" --seed 0)
ieclid train data "${more[@]}" --cap 5000 --out "$work/multiconer.jsonl" \
    --source "$data/multiconer2_en/en-train90.conll:multiconer2"
ieclid train data "${more[@]}" --cap 2000 --out "$work/redocred.jsonl" \
    --source "$data/redocred/dev_revised.json:general"
ieclid train data "${more[@]}" --cap 1500 --out "$work/geneva.jsonl" --source "$data/geneva/train_recovered.jsonl"
cat "$work"/{aligned,multiconer,redocred,geneva}.jsonl > "$work/broad.jsonl"
sha256sum "$work/broad.jsonl"
ieclid train sft --data "$work/broad.jsonl" --base smollm2 --config train/aligned.yaml --out "$run" "${@:3}"
ieclid train export --run "$run"
