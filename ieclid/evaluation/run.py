"""`ieclid eval` as a library: read gold, obtain predictions (a file or a model run), score.

Predictions are ieclid records. They are matched to gold documents by id, or, when the
ids differ (a file made with `ieclid extract --lines`), by position if the texts agree.
"""

from __future__ import annotations

from pathlib import Path

from ieclid.datasets import (
    READERS,
    Annotated,
    event_ontology,
    read_conll,
    read_records,
    read_semeval,
    sniff_format,
)
from ieclid.errors import UsageError
from ieclid.evaluation import carb, semeval
from ieclid.evaluation.spans import PRF, SpanScores
from ieclid.evaluation.tables import TableScores
from ieclid.record_text import referent, said
from ieclid.task_specs import TASKS
from ieclid.tasks.markers import strip_markers

EVENT_TASKS = ("ed", "eae", "ee")  # the tasks PHEE and GENEVA score


def read_gold(path: str, task: str) -> list[Annotated]:
    """Gold documents for `task`: CoNLL/BIO or ieclid records (ner); SemEval-2010 or FewRel (rc);
    ieclid records with relations or DocRED/Re-DocRED (re, one document per sentence); PHEE or
    OneIE such as GENEVA (ed, ee; eae gets one document per gold event, its trigger marked)."""
    fmt = sniff_format(path, "gold")
    file = Path(path)
    if task == "ner":
        docs = list(read_records(file) if fmt == "records" else read_conll(file))
    elif task == "rc":
        docs = list(READERS["fewrel"](file) if fmt == "fewrel" else read_semeval(file))
        if not docs:
            raise UsageError(f"{path}: expected a SemEval-2010 Task 8 file ('<id><TAB>\"sentence\"' lines)")
    elif task in EVENT_TASKS:
        if fmt not in ("phee", "oneie"):
            raise UsageError(f"{path}: --task {task} is scored on PHEE or OneIE (GENEVA) JSON Lines files")
        docs = list(READERS[fmt](file))
        if task == "eae":
            # Offsets stay those of the text without markers, which is what records hold.
            docs = [
                Annotated(f"{doc.id}#{number}", example.text, events=[event])
                for doc in docs
                for number, (example, event) in enumerate(
                    zip(doc.examples("eae"), doc.events, strict=True), start=1
                )
            ]
    elif task == "openie":
        if fmt != "carb":
            raise UsageError(f"{path}: --task openie is scored on CaRB gold TSV files")
        docs = list(READERS["carb"](file))
    elif task == "re":
        if fmt not in ("records", "docred"):
            raise UsageError(f"{path}: --task re is scored on ieclid records with relations or DocRED")
        docs = list(READERS[fmt](file))
    elif task == "table":
        docs = list(read_records(file)) if fmt == "records" else []
        if not any(doc.table for doc in docs):
            raise UsageError(f"{path}: --task table is scored on ieclid records (JSONL) with gold tables")
    else:
        raise UsageError(f"ieclid eval does not score --task {task}")
    if not docs:
        raise UsageError(f"{path}: no gold documents found")
    return docs


def default_schema(path: str, task: str) -> str | None:
    """The schema a gold file brings: GENEVA's event ontology beside a OneIE file."""
    if task not in EVENT_TASKS or sniff_format(path, "gold") != "oneie":
        return None
    ontology = event_ontology(Path(path))
    return str(ontology) if ontology else None


def _plain_text(doc: Annotated, task: str) -> str:
    return strip_markers(doc.text)[0] if TASKS[task].marked else doc.text


def align(gold: list[Annotated], records: list[dict], task: str) -> list[dict | None]:
    """The record for each gold document (None where the predictions have none)."""
    by_id = {str(r.get("id")): r for r in records}
    if any(doc.id in by_id for doc in gold):
        return [by_id.get(doc.id) for doc in gold]
    if len(records) >= len(gold) and all(
        r.get("text") in (None, _plain_text(doc, task)) for doc, r in zip(gold, records, strict=False)
    ):
        return list(records[: len(gold)])
    raise UsageError(
        "predictions do not match the gold documents: no shared ids, and not the same texts in order"
    )


def score_ner(gold: list[Annotated], predictions: list[dict | None]) -> dict:
    scores = SpanScores()
    missing = 0
    for doc, record in zip(gold, predictions, strict=True):
        if record is None or "error" in record:
            missing += 1
        pred = [
            (e["start"], e["end"], e["label"])
            for e in (record or {}).get("entities", [])
            if e.get("start") is not None
        ]
        scores.add(doc.entities, pred)
    return {"task": "ner", "metric": "micro F1, exact span and type", "n": len(gold),
            "missing": missing, **scores.as_dict()}


def score_re(gold: list[Annotated], predictions: list[dict | None]) -> dict:
    """Relation triples: a predicted (head, relation, tail) counts when its relation and the texts
    of both ends (case and spacing aside) equal a gold triple's; direction counts."""
    scores = SpanScores()
    missing = 0
    for doc, record in zip(gold, predictions, strict=True):
        if record is None or "error" in record:
            missing += 1
        spans = [said(doc.text[start:end]) for start, end, _ in doc.entities]
        entity_of = referent(record or {})
        pred = []
        for rel in (record or {}).get("relations") or []:
            head, tail = entity_of(rel.get("head")), entity_of(rel.get("tail"))
            if head and tail:
                pred.append((said(head["text"]), said(tail["text"]), rel["label"]))
        scores.add([(spans[h], spans[t], label) for h, t, label in doc.triples], pred)
    return {"task": "re", "metric": "micro F1, exact (head, relation, tail) texts", "n": len(gold),
            "missing": missing, **scores.as_dict()}


def score_events(task: str, gold: list[Annotated], predictions: list[dict | None]) -> dict:
    """Triggers: exact span and event type. Arguments: exact span, role and the event's type
    (eae: of the one marked event, whose trigger is given)."""
    triggers, arguments = SpanScores(), SpanScores()
    missing = 0
    for doc, record in zip(gold, predictions, strict=True):
        if record is None or "error" in record:
            missing += 1
        record = record or {}
        entities = {e["id"]: e for e in record.get("entities", [])}
        pred_triggers, pred_arguments = [], []
        for event in record.get("events", []):
            trigger = entities.get(event["trigger"], {})
            event_type = event["label"] if task != "eae" else doc.events[0].label
            if trigger.get("start") is not None:
                pred_triggers.append((trigger["start"], trigger["end"], event["label"]))
            for argument in event["arguments"]:
                span = entities.get(argument["ref"], {})
                if span.get("start") is not None:
                    pred_arguments.append((span["start"], span["end"], f"{event_type}/{argument['role']}"))
        triggers.add([(e.start, e.end, e.label) for e in doc.events], pred_triggers)
        gold_arguments = [(s, t, f"{e.label}/{role}") for e in doc.events for s, t, role in e.arguments]
        arguments.add(gold_arguments, pred_arguments)
    main = triggers if task == "ed" else arguments
    report = {"task": task, "n": len(gold), "missing": missing, **main.as_dict()}
    report["metric"] = "micro F1, " + (
        "trigger span and event type" if task == "ed" else "argument span, role and event type"
    )
    if task == "ee":
        report["triggers"] = triggers.as_dict()
    return report


def gold_label(doc: Annotated) -> str:
    return semeval.directed_label(*(doc.choice or (None, False)))


def score_rc(gold: list[Annotated], predictions: list[dict | None]) -> dict:
    """SemEval-2010's official macro-F1, and micro-F1 over positive labels (QA4RE's metric)."""
    key = {doc.id: gold_label(doc) for doc in gold}
    proposed = {}
    missing = 0
    for doc, record in zip(gold, predictions, strict=True):
        if record is None or "error" in record:
            missing += 1  # skipped, as the official scorer treats an absent answer
            continue
        relations = record.get("relations") or []
        proposed[doc.id] = semeval.label_of(relations[0] if relations else None)
    positive = PRF()
    for example, label in key.items():
        predicted = proposed.get(example, semeval.OTHER)
        positive.n_gold += label != semeval.OTHER
        positive.n_pred += predicted != semeval.OTHER
        positive.tp += label != semeval.OTHER and predicted == label
    return {**semeval_report(key, proposed), "missing": missing, "micro_positive": positive.as_dict()}


def semeval_report(key: dict[str, str], proposed: dict[str, str]) -> dict:
    """The official figures at the top (as fractions), all three evaluations below."""
    evaluations = semeval.score(key, proposed)
    official = evaluations["official"]
    return {
        "task": "rc",
        "metric": "SemEval-2010 official: (9+1)-way macro-F1 with direction",
        "n": len(key),
        "precision": official.macro_precision / 100,
        "recall": official.macro_recall / 100,
        "f1": official.macro_f1 / 100,
        "per_label": {
            label: {"precision": s.precision / 100, "recall": s.recall / 100, "f1": s.f1 / 100,
                    "tp": s.tp, "n_pred": s.pred, "n_gold": s.gold}
            for label, s in official.per_label.items()
        },
        "semeval": {mode: e.as_dict() for mode, e in evaluations.items()},
    }


def score_openie(gold: list[Annotated], predictions: list[dict | None]) -> dict:
    """CaRB: each tuple's score is its confidence; AUC and the best-F1 point of the curve."""
    gold_tuples = {doc.text: [carb.Extraction(t[0], list(t[1:])) for t in doc.tuples] for doc in gold}
    predicted: dict[str, list[carb.Extraction]] = {}
    for doc, record in zip(gold, predictions, strict=True):
        if record is not None:
            predicted[doc.text] = carb.from_records([record]).get(record.get("text", ""), [])
    missing = sum(1 for r in predictions if r is None or "error" in r)
    return {**carb_report(carb.score(gold_tuples, predicted), len(gold)), "missing": missing}


def carb_report(result: carb.CarbResult, n: int) -> dict:
    return {"task": "openie", "metric": "CaRB (binary lenient match): best-F1 point and AUC", "n": n,
            **result.as_dict()}


def score_carb_files(gold_path: str, system_path: str) -> dict:
    """`--format carb`: score another system's OpenIE-4/5 or tabbed output against CaRB gold."""
    gold = carb.read_gold(Path(gold_path))
    return carb_report(carb.score(gold, carb.read_system(Path(system_path))), len(gold))


def score_tables(gold: list[Annotated], predictions: list[dict | None]) -> dict:
    """Header precision/recall/F1 at the top level; ROUGE-Lsum of the content beside them."""
    scores = TableScores()
    for doc, record in zip(gold, predictions, strict=True):
        scores.add(doc.table, (record or {}).get("table"))
    figures = scores.as_dict()
    return {"task": "table", "metric": "column names: exact-match micro F1; content: ROUGE-Lsum",
            "n": len(gold), "missing": sum(1 for r in predictions if r is None or "error" in r),
            **figures["headers"], "rouge_lsum": figures["rouge_lsum"]}


def score(task: str, gold: list[Annotated], predictions: list[dict | None]) -> dict:
    if task == "ner":
        return score_ner(gold, predictions)
    if task == "table":
        return score_tables(gold, predictions)
    if task == "openie":
        return score_openie(gold, predictions)
    if task in EVENT_TASKS:
        return score_events(task, gold, predictions)
    if task == "re":
        return score_re(gold, predictions)
    if all(doc.choice is None or doc.choice[0] is None or "-" in doc.choice[0] for doc in gold):
        return score_rc(gold, predictions)  # SemEval-2010's labels
    return score_rc_micro(gold, predictions)


def score_rc_micro(gold: list[Annotated], predictions: list[dict | None]) -> dict:
    """Other relation sets (FewRel): micro-F1 over the positive labels, as QA4RE reports.

    Each item is one "span" (its index) with at most one label per side, so span scoring counts
    exactly the labelled answers, right answers and gold labels.
    """
    scores = SpanScores()
    missing = 0
    for number, (doc, record) in enumerate(zip(gold, predictions, strict=True)):
        if record is None or "error" in record:
            missing += 1
        relations = (record or {}).get("relations") or []
        entities = {e["id"]: e["label"] for e in (record or {}).get("entities", [])}
        predicted = None
        if relations and entities.get(relations[0]["head"]) == "e1":
            predicted = relations[0]["label"]
        label = doc.choice[0] if doc.choice else None
        scores.add(
            [(number, number, label)] if label is not None else [],
            [(number, number, predicted)] if predicted is not None else [],
        )
    return {
        "task": "rc", "metric": "micro F1 over positive labels (QA4RE)", "n": len(gold), "missing": missing,
        **scores.as_dict(),
    }


def score_semeval_files(key_path: str, answers_path: str) -> dict:
    """`--format semeval2010`: score another system's answer file against a key file."""
    key = semeval.read_answers(key_path)
    proposed = semeval.read_answers(answers_path)
    unknown = sorted(set(proposed) - set(key))
    if unknown:
        raise UsageError(f"{answers_path}: ids not in the key, e.g. {unknown[0]}")
    return semeval_report(key, proposed)
