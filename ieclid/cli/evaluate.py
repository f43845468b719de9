"""`ieclid eval`: score predictions (a file, or a model run on the gold texts) like the papers."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from ieclid.cli.app import app
from ieclid.cli.options import RUN_OPTIONS, Task, with_options
from ieclid.cli.progress import progress, stages


class Format(StrEnum):
    ieclid = "ieclid"
    semeval2010 = "semeval2010"
    carb = "carb"


@app.command("eval", no_args_is_help=True)
@with_options(RUN_OPTIONS)
def evaluate(
    gold: str = typer.Option(
        ..., "--gold", "-g",
        help=(
            "Gold file: CoNLL/BIO or ieclid records (ner); SemEval-2010 or FewRel (rc); ieclid records with "
            "relations or DocRED/Re-DocRED (re); PHEE or OneIE such as GENEVA (ed, eae, ee; GENEVA's "
            "event_ontology.json beside it is the schema); CaRB gold TSV (openie); ieclid records "
            "with tables (table)."
        ),
    ),
    pred: str = typer.Option(
        None, "--pred", "-p", help="Predicted ieclid records (JSONL); else the model runs on the gold texts."
    ),
    file_format: Format = typer.Option(
        Format.ieclid, "--format",
        help=(
            "Score another system's file: semeval2010 (--gold answer key, --pred '<id><TAB><label>' answers) "
            "or carb (--gold CaRB gold TSV, --pred OpenIE-4/5 output or "
            "'sentence<TAB>conf<TAB>pred<TAB>args')."
        ),
    ),
    limit: int = typer.Option(None, "--limit", "-n", help="Score only the first N gold documents."),
    save: str = typer.Option(
        None, "--save",
        help="Where a model run saves its records: a file, or a directory to hold "
        "<gold name>.<task>.pred.jsonl (default: that file beside the gold file).",
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Continue a model run that was stopped: reuse the records --save holds."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as one JSON object."),
    **options: Any,
) -> int:
    """Score extractions with the papers' metrics: entity/trigger/argument micro-F1, SemEval-2010
    macro-F1, QA4RE micro-F1, relation triple micro-F1, CaRB, table headers and ROUGE-Lsum."""
    import orjson

    from ieclid.errors import UsageError
    from ieclid.evaluation import run as evaluation
    from ieclid.outputs import read_records

    task: Task = options["task"]
    if file_format == Format.semeval2010:
        if not pred:
            raise UsageError("--format semeval2010 needs --pred ANSWERS (and --gold KEY)")
        report = evaluation.score_semeval_files(gold, pred)
    elif file_format == Format.carb:
        if not pred:
            raise UsageError("--format carb needs --pred SYSTEM_OUTPUT (and --gold CaRB gold TSV)")
        report = evaluation.score_carb_files(gold, pred)
    else:
        documents = evaluation.read_gold(gold, task.value)[: limit or None]
        if pred:
            predictions = evaluation.align(documents, read_records(pred), task.value)
            saved = None
        else:
            from ieclid.settings import RunSettings

            if not options.get("schema") and not options.get("labels"):
                options["schema"] = evaluation.default_schema(gold, task.value)
            settings = RunSettings.from_options(options)
            saved = predictions_path(gold, task.value, save)
            predictions = _run_model(documents, settings, saved, options["quiet"], resume)
        report = evaluation.score(task.value, documents, predictions)
        if saved:
            report["predictions"] = saved
    if as_json:
        print(orjson.dumps(report, option=orjson.OPT_SERIALIZE_NUMPY).decode())
    else:
        _print_report(report)
    return 0


def predictions_path(gold: str, task: str, save: str | None) -> str:
    """Where a model run's records go: `save` as given, or `<gold name>.<task>.pred.jsonl` in the
    directory `save` names or, by default, beside the gold file (never the working directory,
    which may be a checkout)."""
    name = f"{Path(gold).name}.{task}.pred.jsonl"
    if save is None:
        return str(Path(gold).with_name(name))
    return str(Path(save) / name) if Path(save).is_dir() else save


def _run_model(documents, settings, save: str, quiet: bool, resume: bool) -> list[dict | None]:
    """Extract from the gold texts (rc: with their markers) as `ieclid extract` does, writing each
    record to `save` as it comes; with `resume`, the records `save` holds are reused."""
    from functools import partial

    from ieclid.assembly import open_extractor
    from ieclid.documents import Document
    from ieclid.run import extract_records, extract_to

    with stages(quiet) as say:
        extractor, backend = open_extractor(settings, say)
    records: list[dict | None] = []
    try:
        with progress(len(documents), quiet, "evaluating") as tracker:

            def on_record(record: dict) -> None:
                records.append(record)
                tracker(record)

            # eae is scored as the benchmarks set it: the trigger and the event's type are given.
            eae = settings.task == "eae"
            texts = (Document(doc.id, doc.text, event_type=doc.events[0].label if eae else None)
                     for doc in documents)
            records_of = partial(extract_records, extractor, in_flight=settings.in_flight,
                                 on_part=tracker.part)
            extract_to(records_of, extractor.options.digest or "", texts, save, resume=resume,
                       on_record=on_record)
    finally:
        backend.close()
    return records[: len(documents)]  # then any the saved file held of other documents


def _print_report(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if report["task"] in ("openie", "table"):
        extra = f"AUC {report['auc']:.3f}" if "auc" in report else f"ROUGE-Lsum {report['rouge_lsum']:.2f}"
        console.print(
            f"{report['task']}: {report['metric']} (n={report['n']})\n"
            f"{extra}   precision {report['precision']:.3f}   recall {report['recall']:.3f}"
            f"   F1 {report['f1']:.3f}"
        )
        _print_footer(console, report)
        return
    title = f"{report['task']}: {report['metric']} (n={report['n']})"
    table = Table(title=title, title_justify="left")
    for column in ("label", "precision", "recall", "F1", "tp", "pred", "gold"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, s in report.get("per_label", {}).items():
        table.add_row(label, f"{100 * s['precision']:.2f}", f"{100 * s['recall']:.2f}",
                      f"{100 * s['f1']:.2f}", str(s["tp"]), str(s["n_pred"]), str(s["n_gold"]))
    table.add_section()
    overall = "macro (official)" if report["task"] == "rc" else "micro"
    table.add_row(overall, f"{100 * report['precision']:.2f}", f"{100 * report['recall']:.2f}",
                  f"{100 * report['f1']:.2f}", str(report.get("tp", "")), str(report.get("n_pred", "")),
                  str(report.get("n_gold", "")), style="bold")
    if "micro_positive" in report:
        m = report["micro_positive"]
        table.add_row("micro, positive labels", f"{100 * m['precision']:.2f}", f"{100 * m['recall']:.2f}",
                      f"{100 * m['f1']:.2f}", str(m["tp"]), str(m["n_pred"]), str(m["n_gold"]))
    console.print(table)
    _print_footer(console, report)


def _print_footer(console, report: dict) -> None:
    if report.get("missing"):
        console.print(f"{report['missing']} documents had no usable prediction (counted as empty)")
    if report.get("predictions"):
        console.print(f"predictions saved to {report['predictions']}")
