"""`ieclid train`: the ADELIE alignment recipe. So far: `data`, `sft` and `export` (LoRA → GGUF)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from ieclid.cli import app

train_app = typer.Typer(
    name="train", help="Fine-tune a model for IE: instruction data, then SFT ('pip install .[train]').",
    no_args_is_help=True, rich_markup_mode=None,
)
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


@train_app.command("sft", no_args_is_help=True)
def sft(
    data: str = typer.Option(..., "--data", help="Output of 'ieclid train data' (JSONL chats)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory: settings, metrics, final/ result."),
    base: str = typer.Option(
        "smollm2", "--base", help="A GGUF (path or model name; dequantized first) or an HF model directory."
    ),
    settings_file: Path = typer.Option(None, "--config", help="Recipe YAML (default: train/sft.yaml)."),
    lora: bool = typer.Option(None, "--lora/--full", help="LoRA adapter (default) or full fine-tuning."),
    epochs: float = typer.Option(None, "--epochs", help="Passes over the data."),
    max_steps: int = typer.Option(None, "--max-steps", help="Stop after this many optimizer steps."),
    batch_size: int = typer.Option(None, "--batch-size", help="Examples per device and step."),
    grad_accum: int = typer.Option(None, "--grad-accum", help="Steps accumulated per update."),
    learning_rate: float = typer.Option(None, "--lr", help="Peak learning rate."),
    max_length: int = typer.Option(None, "--max-length", help="Tokens per example at most."),
) -> int:
    """Supervised fine-tuning with TRL, loss on the answers only (ADELIE's settings by default)."""
    from ieclid.training.sft import load_settings, train

    overrides = {
        "lora": lora, "num_train_epochs": epochs, "max_steps": max_steps,
        "per_device_train_batch_size": batch_size, "gradient_accumulation_steps": grad_accum,
        "learning_rate": learning_rate, "max_length": max_length,
    }
    metrics = train(data, base, out, load_settings(settings_file, overrides))
    print(f"trained: {out / 'final'} (loss {metrics.get('train_loss', float('nan')):.3f})", file=sys.stderr)
    return 0


@train_app.command("export", no_args_is_help=True)
def export(
    run: Path = typer.Option(..., "--run", help="A run directory of 'ieclid train sft' (LoRA)."),
    out: Path = typer.Option(None, "--out", "-o", help="The adapter GGUF (default: RUN/adapter.gguf)."),
    check: bool = typer.Option(
        True, "--check/--no-check", help="Compare llama.cpp's answers with the trained model's."
    ),
) -> int:
    """The LoRA adapter as a GGUF that llama.cpp applies to the quantized base: ieclid extract --lora."""
    import yaml

    from ieclid.errors import UsageError
    from ieclid.models import resolve_model
    from ieclid.training.export import export_adapter, verify
    from ieclid.training.sft import require_train_extra

    require_train_extra()
    settings_path = run / "settings.yaml"
    if not settings_path.is_file():
        raise UsageError(f"{run} is not a run directory of 'ieclid train sft' (no settings.yaml)")
    settings = yaml.safe_load(settings_path.read_text())
    if not settings.get("lora", True):
        raise UsageError("this run trained the full model; only LoRA adapters are exported so far")
    if Path(settings["base"]).is_dir():
        raise UsageError("the run's base is an HF directory; an adapter needs the GGUF base it was made from")
    base_gguf = resolve_model(settings["base"])
    out = out or run / "adapter.gguf"
    tensors = export_adapter(run / "final", run / "base", out)
    print(f"wrote {out} ({tensors} tensors, {out.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    if check:
        check = verify(run / "final", run / "base", base_gguf, out)
        if check["compared"]:
            effect = ("the adapter moves llama.cpp's logits as it moves the trained model's "
                      f"(cosine {check['change_cosine']})")
        else:
            effect = "the adapter changes the model too little to compare through the quantized base"
        print(f"checked: tokenizers agree; {effect}", file=sys.stderr)
    print(f"use it: ieclid extract --model {settings['base']} --lora {out} FILE", file=sys.stderr)
    return 0
