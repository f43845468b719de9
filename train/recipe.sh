# Sourced by train/aligned.sh and train/broad.sh: the default recipe's training data.
# CrossNER is built three times and SemEval twice with different seeds (other instructions,
# option orders, answer formats), so that fine-grained entity types and relations weigh about
# as much as WNUT-17's six types and the event tasks. Half the NER examples show about half
# their types under other names (politician as statesman) and 30% drop specific types for their
# coarse ones (politicians answered person), so answers follow the offered names
# (ieclid/training/label_names.py).

# The NER naming options every source of the recipe is built with.
recipe_names=(--rename 0.5 --merge 0.3)

# aligned_data DATA_DIR WORK_DIR [more `ieclid train data` options]: writes WORK_DIR/aligned.jsonl
aligned_data() {
    local data=$1 work=$2
    shift 2
    local names=("${recipe_names[@]}" "$@")
    local wnut=(--source "$data/wnut17/train_first2000.conll:wnut17" --source "$data/wnut17/dev.conll:wnut17")
    local crossner=(--source "$data/crossner/politics/train.txt:crossner_politics"
                    --source "$data/crossner/politics/dev.txt:crossner_politics"
                    --source "$data/crossner/science/train.txt:crossner_science"
                    --source "$data/crossner/science/dev.txt:crossner_science")
    local semeval=(--source "$data/semeval2010_task8/TRAIN_FILE_first2000.TXT:semeval2010")
    ieclid train data "${names[@]}" --out "$work/all.jsonl" --seed 0 "${wnut[@]}" "${crossner[@]}" \
        "${semeval[@]}" --source "$data/phee/train_first2000.jsonl:phee" --source "$data/carb/data/gold/dev.tsv"
    local seed
    for seed in 1 2; do
        ieclid train data "${names[@]}" --out "$work/crossner$seed.jsonl" --seed $seed "${crossner[@]}"
    done
    ieclid train data "${names[@]}" --out "$work/semeval1.jsonl" --seed 1 "${semeval[@]}"
    cat "$work"/{all,crossner1,crossner2,semeval1}.jsonl > "$work/aligned.jsonl"
}
