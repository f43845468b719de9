"""`ieclid train`: the ADELIE alignment recipe. So far: `data`, the instruction data for SFT."""

from __future__ import annotations

import sys

import typer

from ieclid.cli import app

train_app = typer.Typer(name="train", help="Build IE instruction data for fine-tuning.", no_args_is_help=True,
                        rich_markup_mode=None)
app.add_typer(train_app)


@train_app.command("data", no_args_is_help=True)
def data(
    source: list[str] = typer.Option(
        ..., "--source",
        help="An annotated file (CoNLL, SemEval-2010, FewRel, PHEE, CaRB, ieclid records), optionally "
        "PATH:SCHEMA for label descriptions; repeat for several.",
    ),
    out: str = typer.Option(..., "--out", "-o", help="The JSONL to write (chat messages, which TRL reads)."),
    cap: int = typer.Option(5000, "--cap", help="Examples per source at most."),
    seed: int = typer.Option(0, "--seed", help="Seed for every random choice (same seed, same file)."),
    general: str = typer.Option(None, "--general", help="General chat data (JSONL with messages) to mix in."),
    ie_share: float = typer.Option(0.2, "--ie-share", help="With --general: the share of IE examples."),
) -> int:
    """IEInstruct-style data: instruction pools, shuffled and sub-sampled options, descriptions and
    LABEL_k symbols for some, triplet/JSON/sentence answers, 1-8 demonstrations for half, 80% of
    empty answers dropped, sources capped and mixed."""
    from ieclid.errors import UsageError
    from ieclid.outputs import JsonlWriter, read_records
    from ieclid.training.data import Recipe, build, parse_source

    if not 0 < ie_share <= 1:
        raise UsageError("--ie-share must be in (0, 1]")
    if cap < 1:
        raise UsageError("--cap must be at least 1")
    chat = read_records(general) if general else None
    if chat is not None and not all(isinstance(g.get("messages"), list) for g in chat):
        raise UsageError(f"{general}: every line needs a 'messages' list")
    examples = build([parse_source(s) for s in source], Recipe(seed=seed, cap=cap), chat, ie_share)
    writer = JsonlWriter(out)
    try:
        for example in examples:
            writer.write(example)
    finally:
        writer.close()
    print(f"wrote {writer.count} examples to {out}", file=sys.stderr)
    return 0
