"""`ieclid train`: the ADELIE alignment recipe: `data`, `sft`, `pairs`, `dpo` and `export`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from ieclid.cli.app import app
from ieclid.cli.options import RECIPE_KEYS, TRAIN_OPTIONS, with_options

train_app = typer.Typer(
    name="train", help="Align a model for IE: instruction data, SFT, preference pairs, DPO, GGUF export "
    "('pip install .[train]').",
    no_args_is_help=True, rich_markup_mode=None,
)
app.add_typer(train_app)


@train_app.command("data", no_args_is_help=True)
def data(
    source: list[str] = typer.Option(
        ..., "--source",
        help="An annotated file (CoNLL such as MultiCoNER, SemEval-2010, FewRel, DocRED/Re-DocRED, PHEE, "
        "OneIE such as GENEVA, CaRB, ieclid records), optionally PATH:SCHEMA for label names and "
        "descriptions (its aliases map the file's tags); repeat for several.",
    ),
    out: str = typer.Option(..., "--out", "-o", help="The JSONL to write (chat messages, which TRL reads)."),
    cap: int = typer.Option(5000, "--cap", help="Examples per source at most."),
    seed: int = typer.Option(0, "--seed", help="Seed for every random choice (same seed, same file)."),
    general: str = typer.Option(None, "--general", help="General chat data (JSONL with messages) to mix in."),
    ie_share: float = typer.Option(0.2, "--ie-share", help="With --general: the share of IE examples."),
    rename: float = typer.Option(
        0.0, "--rename", help="Share of NER examples that show about half their types under other names "
        "(politician as statesman), so answers follow the offered names.",
    ),
    merge: float = typer.Option(
        0.0, "--merge", help="Share of NER examples whose specific types are left out and their "
        "entities answered with the coarse type (politician -> person).",
    ),
    passages: float = typer.Option(
        0.0, "--passages", help="Share of entity-annotated sentences joined with the next 1-3 into "
        "one passage, so paragraphs and repeated names are learned.",
    ),
) -> int:
    """IEInstruct-style data: instruction pools, shuffled and sub-sampled options, descriptions and
    LABEL_k symbols for some, triplet/JSON/sentence answers, 1-8 demonstrations for half, 80% of
    empty answers dropped, sources capped and mixed. Lower-cased sources get capitals in half their
    examples; DocRED gives relation triples and marked pairs, OneIE events with their roles."""
    from ieclid.errors import UsageError
    from ieclid.outputs import JsonlWriter, read_records
    from ieclid.training.data import Recipe, build, parse_source

    if not 0 < ie_share <= 1:
        raise UsageError("--ie-share must be in (0, 1]")
    if cap < 1:
        raise UsageError("--cap must be at least 1")
    if not (0 <= rename <= 1 and 0 <= merge <= 1 and 0 <= passages <= 1):
        raise UsageError("--rename, --merge and --passages are shares, from 0 to 1")
    chat = read_records(general) if general else None
    if chat is not None and not all(isinstance(g.get("messages"), list) for g in chat):
        raise UsageError(f"{general}: every line needs a 'messages' list")
    recipe = Recipe(seed=seed, cap=cap, rename=rename, merge=merge, passages=passages)
    notes: list[str] = []
    examples = build([parse_source(s) for s in source], recipe, chat, ie_share, notes)
    for note in notes:
        print(note, file=sys.stderr)
    writer = JsonlWriter(out)
    try:
        for example in examples:
            writer.write(example)
    finally:
        writer.close()
    print(f"wrote {writer.count} examples to {out}", file=sys.stderr)
    return 0


@train_app.command("sft", no_args_is_help=True)
@with_options(TRAIN_OPTIONS)
def sft(
    data: str = typer.Option(None, "--data", help="Output of 'ieclid train data' (JSONL chats)."),
    base: str = typer.Option(
        "smollm2", "--base", help="A GGUF (path or model name; dequantized first) or an HF model directory; "
        "smollm2-ie: the default model, its adapter trained on from where it is.",
    ),
    adapter: str | None = typer.Option(
        None, "--adapter", help="Go on training this LoRA adapter (a GGUF adapter or a run's final/ "
        "directory) instead of a new one."
    ),
    lora: bool = typer.Option(None, "--lora/--full", help="LoRA adapter (default) or full fine-tuning."),
    save_steps: int = typer.Option(None, "--save-steps", help="Save a checkpoint every N steps."),
    **options: Any,
) -> int:
    """Supervised fine-tuning with TRL, loss on the answers only (ADELIE's settings by default)."""
    from ieclid.errors import UsageError
    from ieclid.models import ALIGNED_NAME, EMBEDDED_NAME, bundled_adapter
    from ieclid.training.runs import load_settings
    from ieclid.training.sft import train

    if base == ALIGNED_NAME:  # the embedded model with ieclid's adapter: train that adapter on
        if adapter:
            raise UsageError(f"{ALIGNED_NAME} brings its own adapter; "
                             f"give --base {EMBEDDED_NAME} with --adapter")
        base, adapter = EMBEDDED_NAME, bundled_adapter(ALIGNED_NAME)

    overrides = {"lora": lora, **recipe_overrides(options)}
    if save_steps:
        overrides.update(save_strategy="steps", save_steps=save_steps)
    out = options["out"]
    recipe = load_settings("sft", options["settings_file"], overrides)
    metrics = train(data, base, out, recipe, options["minutes"], options["resume"], adapter)
    _trained(out, metrics)
    return 0


@train_app.command("pairs", no_args_is_help=True)
def pairs(
    data: str = typer.Option(..., "--data", help="Chats with gold answers ('ieclid train data' output)."),
    out: str = typer.Option(..., "--out", "-o", help="Preference pairs to write (JSONL for TRL's DPO)."),
    model: str = typer.Option(None, "--model", "-m", help="The SFT model: a GGUF or a model name."),
    lora: str = typer.Option(None, "--lora", help="The SFT run's adapter (ieclid train export)."),
    samples: int = typer.Option(5, "--samples", help="Answers sampled per prompt."),
    temperature: float = typer.Option(1.0, "--temperature", help="Sampling temperature."),
    cap: int = typer.Option(10000, "--cap", help="Pairs at most (30% online, the rest gold vs worst)."),
    limit: int = typer.Option(0, "--limit", help="Use the first N chats only (0: all)."),
    seed: int = typer.Option(0, "--seed", help="Seed for sampling and mixing."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> int:
    """IEFeedback: sample answers from the SFT model, score them against the gold with character
    BLEU, keep best-vs-worst and gold-vs-worst pairs that differ by more than 0.1 (ADELIE's recipe)."""
    from ieclid.assembly import open_backend, with_bundled_adapter
    from ieclid.cli.progress import progress
    from ieclid.errors import UsageError
    from ieclid.models import resolve_model
    from ieclid.outputs import JsonlWriter, read_records
    from ieclid.settings import RunSettings, check_settings
    from ieclid.training.pairs import mix_pairs, sample_all

    settings = RunSettings(model=model, lora=lora, seed=seed, temperature=temperature)
    check_settings(settings)
    if samples < 2 or cap < 1:
        raise UsageError("--samples must be at least 2 and --cap at least 1")
    chats = [r["messages"] for r in read_records(data) if isinstance(r.get("messages"), list)]
    chats = [c for c in chats if len(c) >= 2 and c[-1].get("role") == "assistant"][: limit or None]
    if not chats:
        raise UsageError(f"{data}: no chats that end with an assistant answer")
    backend = open_backend(with_bundled_adapter(settings), resolve_model(model))

    def complete(prompt: list[dict[str, str]], gold: str) -> str:
        budget = 2 * backend.count_tokens(gold) + 32
        return backend.complete(backend.format_chat(prompt), grammar=None, max_tokens=budget,
                                temperature=temperature).text

    scored = []
    try:
        with progress(len(chats), quiet, "sampling") as advance:
            for item in sample_all(chats, complete, samples, settings.in_flight, backend.schedule):
                scored.append(item)
                advance({})
    finally:
        backend.close()
    made, online = mix_pairs(scored, cap, seed)
    writer = JsonlWriter(out)
    try:
        for pair in made:
            writer.write(pair)
    finally:
        writer.close()
    best = sum(max(score for _, score in item.samples) for item in scored) / len(scored)
    print(f"wrote {writer.count} pairs to {out} ({online} best vs worst sample, {writer.count - online} gold "
          f"vs worst) from {len(scored)} prompts; mean best BLEU {best:.3f}", file=sys.stderr)
    return 0


@train_app.command("dpo", no_args_is_help=True)
@with_options(TRAIN_OPTIONS)
def dpo(
    pairs: str = typer.Option(None, "--pairs", help="Output of 'ieclid train pairs'."),
    sft: Path = typer.Option(None, "--sft", help="The 'ieclid train sft' run to start from."),
    beta: float = typer.Option(None, "--beta", help="DPO's beta (how far from the SFT model)."),
    **options: Any,
) -> int:
    """Direct preference optimisation from the SFT run (ADELIE's settings by default); a LoRA run
    goes on training its adapter against a frozen copy of it."""
    from ieclid.errors import UsageError
    from ieclid.training.dpo import train
    from ieclid.training.runs import load_settings

    if not options["resume"] and (pairs is None or sft is None):
        raise UsageError("give --pairs and --sft (or --resume)")
    out = options["out"]
    recipe = load_settings("dpo", options["settings_file"], {"beta": beta, **recipe_overrides(options)})
    metrics = train(pairs, sft, out, recipe, options["minutes"], options["resume"])
    _trained(out, metrics)
    return 0


def recipe_overrides(options: dict[str, Any]) -> dict[str, Any]:
    """The recipe file's settings that TRAIN_OPTIONS override, by the recipe's names."""
    return {key: options[name] for name, key in RECIPE_KEYS.items()}


def _trained(out: Path, metrics: dict) -> None:
    print(f"trained: {out / 'final'} (loss {metrics.get('train_loss', float('nan')):.3f})", file=sys.stderr)


@train_app.command("export", no_args_is_help=True)
def export(
    run: Path = typer.Option(..., "--run", help="A run directory of 'ieclid train sft' or 'dpo'."),
    out: Path = typer.Option(
        None, "--out", "-o", help="The GGUF to write (default: RUN/adapter.gguf or RUN/model-QUANT.gguf; "
        "-blend-W before .gguf with --blend)."
    ),
    merged: bool = typer.Option(
        None, "--merged/--adapter",
        help="A whole model GGUF, LoRA merged in (default for full runs), or a LoRA adapter GGUF "
        "(default for LoRA runs).",
    ),
    quant: str = typer.Option(
        None, "--quant", help="With --merged: Q8_0, Q4_K_M, Q4_1, F16, ... (default: the base GGUF's)."
    ),
    check: bool = typer.Option(
        True, "--check/--no-check", help="Compare llama.cpp's answers with the trained model's."
    ),
    blend: float = typer.Option(
        1.0, "--blend", help="Share of this LoRA run's training to keep: 1 as trained, 0.5 halfway back "
        "to the adapter (or base) it started from, which gives back part of what narrow training cost.",
    ),
) -> int:
    """The trained model for llama.cpp: a LoRA adapter GGUF applied to the quantized base
    (ieclid extract --lora), or a quantized GGUF of the whole model (ieclid extract --model)."""
    import tempfile

    from ieclid.errors import UsageError
    from ieclid.models import resolve_model
    from ieclid.training.runs import require_train_extra, run_settings

    require_train_extra()
    settings_path = run / "settings.yaml"
    if not settings_path.is_file():
        raise UsageError(f"{run} is not a run directory of 'ieclid train' (no settings.yaml)")
    settings = run_settings(run)
    lora = settings.get("lora", True)
    merged = (not lora) if merged is None else merged
    if not merged and not lora:
        raise UsageError("this run trained the full model: export it with --merged")
    if quant and not merged:
        raise UsageError("--quant applies to --merged exports")
    if Path(settings["base"]).is_dir():
        raise UsageError("the run's base is an HF directory; exports start from the GGUF base it was made "
                         "from (train with --base GGUF)")
    if blend != 1 and not lora:
        raise UsageError("--blend applies to LoRA runs; this run trained the full model")
    base_gguf = resolve_model(settings["base"])
    suffix = "" if blend == 1 else f"-blend-{blend:g}"
    if not lora:  # a full run: its RUN/final is the whole model
        _export_merged(run, None, base_gguf, out, quant, suffix, check)
        return 0
    with tempfile.TemporaryDirectory(prefix="ieclid-blend-") as work:
        adapter = _blended(run, settings, blend, Path(work))
        if merged:
            _export_merged(run, adapter, base_gguf, out, quant, suffix, check)
        else:
            out = out or run / f"adapter{suffix}.gguf"
            _export_adapter(run, adapter, base_gguf, out, check)
            print(f"use it: ieclid extract --model {settings['base']} --lora {out} FILE", file=sys.stderr)
    return 0


def _blended(run: Path, settings: dict, weight: float, work: Path) -> Path:
    """The run's adapter to export: RUN/final, or blended with the one the run started from."""
    if weight == 1:
        return run / "final"
    from ieclid.training.blending import blend, start_adapter

    start = start_adapter(run, settings)
    lost = blend(start, run / "final", work, weight)
    origin = f"the adapter it started from ({start})" if start else "the base (no adapter)"
    rank = f"; the rank leaves out {lost:.1e} of a change's energy at most" if lost else ""
    print(f"blended: {weight:g} of the training, {1 - weight:g} of {origin}{rank}", file=sys.stderr)
    return work


def _export_adapter(run: Path, adapter: Path, base_gguf: str, out: Path, check: bool) -> None:
    from ieclid.training.export import export_adapter, verify

    tensors = export_adapter(adapter, run / "base", out)
    print(f"wrote {out} ({tensors} tensors, {out.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    if check:
        result = verify(adapter, run / "base", base_gguf, out)
        if result["compared"]:
            effect = ("the adapter moves llama.cpp's logits as it moves the trained model's "
                      f"(cosine {result['change_cosine']})")
        else:
            effect = "the adapter changes the model too little to compare"
        print(f"checked: tokenizers agree; {effect}", file=sys.stderr)


def _export_merged(run: Path, adapter: Path | None, base_gguf: str, out: Path | None, quant: str | None,
                   suffix: str, check: bool) -> None:
    from ieclid.training.merged_gguf import base_quant, probe_extraction, verify_merged, write_merged

    quant = (quant or base_quant(base_gguf)).upper()
    out = out or run / f"model-{quant}{suffix}.gguf"
    written = write_merged(run, base_gguf, out, quant, adapter)
    print(f"wrote {out} ({quant}, {written['tensors']} tensors, {written['bytes'] / 1e6:.1f} MB)",
          file=sys.stderr)
    if check:
        result = verify_merged(run, adapter, out)
        probe = probe_extraction(out)
        print(f"checked: tokenizers agree; next-token logits cosine {result['logit_cosine']}, same top token "
              f"{100 * result['top1_agreement']:.0f}% of the time; a probe extraction gave "
              f"{len(probe.get('entities', []))} entities", file=sys.stderr)
    print(f"use it: ieclid extract --model {out} FILE", file=sys.stderr)
