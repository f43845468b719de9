"""`ieclid eval` from the command line: file scoring, model runs, and bad input."""

import json
import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"


def ieclid(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ieclid", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_semeval_files_are_scored_like_the_official_scorer(shared_data):
    fixtures = shared_data / "semeval2010_task8" / "scorer_fixtures"
    result = ieclid("eval", "--format", "semeval2010", "--gold", str(fixtures / "answer_key1.txt"),
                    "--pred", str(fixtures / "proposed_answer1.txt"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert round(100 * report["f1"], 2) == 64.09
    assert round(report["semeval"]["undirected"]["macro"]["f1"], 2) == 72.20
    table = ieclid("eval", "--format", "semeval2010", "--gold", str(fixtures / "answer_key1.txt"),
                   "--pred", str(fixtures / "proposed_answer1.txt"))
    assert "64.09" in table.stdout and "macro (official)" in table.stdout


def test_ner_predictions_file_matched_by_order(tmp_path):
    gold = FIXTURES / "wnut17_train_excerpt.conll"
    from ieclid.datasets import read_conll

    docs = list(read_conll(gold))[:3]
    predictions = tmp_path / "pred.jsonl"
    lines = []
    for number, doc in enumerate(docs):
        # keep the first gold entity of each document and add one wrong one
        entities = [{"label": label, "start": s, "end": e, "text": doc.text[s:e]} for s, e, label in doc.entities[:1]]
        entities.append({"label": "person", "start": 0, "end": 1, "text": doc.text[:1]})
        lines.append(orjson.dumps({"id": f"other:{number}", "text": doc.text, "entities": entities}))
    predictions.write_bytes(b"\n".join(lines) + b"\n")
    result = ieclid("eval", "--task", "ner", "--gold", str(gold), "--pred", str(predictions),
                    "--limit", "3", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    n_gold = sum(len(d.entities) for d in docs)
    hits = sum(1 for d in docs if d.entities)
    assert report["n"] == 3 and report["n_gold"] == n_gold and report["tp"] == hits
    assert set(report) >= {"precision", "recall", "f1", "n", "per_label"}


def test_model_run_saves_predictions_and_scores(tmp_path, shared_data):
    gold = shared_data / "wnut17" / "test.conll"
    result = ieclid("eval", "--task", "ner", "--gold", str(gold), "--schema", "wnut17", "--limit", "5",
                    "--demos", str(FIXTURES / "wnut17_train_excerpt.conll"), "--json", "-q",
                    "--save", str(tmp_path), cwd=ROOT)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    saved = Path(report["predictions"])
    assert saved == tmp_path / "test.conll.ner.pred.jsonl"
    records = [orjson.loads(line) for line in saved.read_bytes().splitlines()]
    assert len(records) == 5 and report["n"] == 5
    # scoring the saved file again gives the same figures
    again = json.loads(ieclid("eval", "--task", "ner", "--gold", str(gold), "--limit", "5",
                              "--pred", str(saved), "--json").stdout)
    assert again["f1"] == report["f1"] and again["tp"] == report["tp"]


def test_predictions_go_beside_the_gold_file_not_into_the_working_directory(tmp_path):
    gold = tmp_path / "gold" / "excerpt.conll"
    gold.parent.mkdir()
    gold.write_bytes((FIXTURES / "wnut17_train_excerpt.conll").read_bytes())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = ieclid("eval", "--task", "ner", "--gold", str(gold), "--schema", "wnut17", "--limit", "2", "-q",
                    cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert (gold.parent / "excerpt.conll.ner.pred.jsonl").is_file()
    assert list(elsewhere.iterdir()) == []
    said = "".join(result.stdout.split())  # the report wraps long lines
    assert f"predictionssavedto{gold.parent / 'excerpt.conll.ner.pred.jsonl'}" in said


def test_eval_errors_are_one_line(tmp_path):
    cases = [
        (["eval", "--task", "ner", "--gold", str(tmp_path / "none.conll"), "--pred", "x"], "gold file not found"),
        (["eval", "--format", "semeval2010", "--gold", str(FIXTURES / "semeval_train_excerpt.txt")], "needs --pred"),
        (["eval", "--task", "re", "--gold", str(FIXTURES / "wnut17_train_excerpt.conll")],
         "--task re is scored on ieclid records with relations or DocRED"),
        (["eval", "--task", "ere", "--gold", str(FIXTURES / "wnut17_train_excerpt.conll")], "does not score --task ere"),
    ]
    mismatched = tmp_path / "p.jsonl"
    mismatched.write_text('{"id": "zzz", "text": "nothing like it", "entities": []}\n')
    cases.append((["eval", "--task", "ner", "--gold", str(FIXTURES / "wnut17_train_excerpt.conll"),
                   "--pred", str(mismatched)], "do not match the gold documents"))
    for args, fragment in cases:
        result = ieclid(*args)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and fragment in lines[0], lines
