"""What every `ieclid train` run shares: its recipe file, run directory, time budget, resumption
and the saved result (final/, metrics.jsonl, settings.yaml with the data and base it used)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from ieclid.errors import UsageError

_PACKAGE = Path(__file__).resolve().parent.parent
# The recipes ship in the wheel (ieclid/train) or, from a checkout, at the top (train/).
RECIPES = next((d for d in (_PACKAGE / "train", _PACKAGE.parent / "train") if d.is_dir()),
               _PACKAGE.parent / "train")


def read_yaml(path: Path, what: str) -> dict:
    """A YAML mapping (empty: {}); a one-line error for a file that is not one, binary included."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise UsageError(f"{path}: not readable as {what} ({type(error).__name__})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{path}: not {what} (a YAML mapping of names to values)")
    return data


def run_settings(run: Path) -> dict:
    """The settings.yaml a run wrote: what it trained on and from (its base at least)."""
    settings = read_yaml(run / "settings.yaml", "the settings of an 'ieclid train' run")
    if "base" not in settings:
        raise UsageError(f"{run / 'settings.yaml'} names no base: not written by 'ieclid train'")
    return settings


def load_settings(recipe: str, path: Path | None, overrides: dict) -> dict:
    """The recipe file (ieclid's train/RECIPE.yaml by default) with command-line overrides."""
    source = path or RECIPES / f"{recipe}.yaml"
    if not source.is_file():
        raise UsageError(f"training settings not found: {source}")
    settings = read_yaml(source, "training settings")
    settings.update({k: v for k, v in overrides.items() if v is not None})
    return settings


def require_train_extra() -> None:
    import importlib.util

    missing = [m for m in ("torch", "transformers", "trl", "peft", "datasets", "gguf", "nltk")
               if importlib.util.find_spec(m) is None]
    if missing:
        names = ", ".join(missing)
        raise UsageError(f"training needs the train extra (pip install 'ieclid[train]'); missing: {names}")


def check_examples(path: Path, keys: tuple[str, ...]) -> None:
    """One-line errors for training data the trainer would fail on deep inside: not UTF-8 JSON
    Lines, no examples, or an example without the fields the trainer reads."""
    import orjson

    count = 0
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                example = orjson.loads(line)
                if not isinstance(example, dict) or any(key not in example for key in keys):
                    raise UsageError(f"{path}, line {number}: not a training example (an object with "
                                     f"{', '.join(keys)})")
                count += 1
    except (UnicodeDecodeError, orjson.JSONDecodeError) as error:
        raise UsageError(f"{path}: not JSON Lines ({type(error).__name__})") from None
    if not count:
        raise UsageError(f"{path}: no training examples")


def start(out: Path, settings: dict, sources: dict, resume: bool,
          keys: tuple[str, ...]) -> tuple[dict, dict, str | None]:
    """Write (or, with `resume`, read back) the run's settings; returns the settings, the sources
    (data, base, ...) they name, and the checkpoint to resume from. The data must hold examples
    with `keys`."""
    require_train_extra()
    checkpoint_dir = None
    if resume:
        checkpoint_dir = last_checkpoint(out)
        if checkpoint_dir is None or not (out / "settings.yaml").is_file():
            raise UsageError(f"nothing to resume: {out} has no settings.yaml and checkpoint-N directory")
        settings = run_settings(out)
        sources = {key: settings.pop(key, None) for key in sources}
    if not sources.get("data") or not Path(sources["data"]).is_file():
        raise UsageError(f"training data not found: {sources.get('data')}")
    check_examples(Path(sources["data"]), keys)
    precision(settings)  # refuses --bf16 where it is emulated, before anything is written
    out.mkdir(parents=True, exist_ok=True)
    kept = {key: value for key, value in sources.items() if value is not None}
    (out / "settings.yaml").write_text(yaml.safe_dump({**settings, **kept}))
    return settings, sources, checkpoint_dir


def precision(settings: dict) -> dict[str, bool]:
    """The trainer's precision arguments: bf16 mixed precision by the recipe's `bf16`
    (`--bf16/--fp32`), else wherever the hardware computes bf16 natively (a recent GPU; a CPU
    with AVX512-BF16 or AMX, where it shortens each step). Elsewhere bf16 is
    emulated, slower than fp32, so asking for it there is refused."""
    import torch

    gpu = torch.cuda.is_available()
    if gpu:
        native = torch.cuda.is_bf16_supported()
    else:
        cpu = torch.cpu
        native = any(getattr(cpu, check, lambda: False)()
                     for check in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))
    wanted = settings.get("bf16")
    if wanted and not native:
        raise UsageError("bf16 asked for, but this machine does not compute it natively: give --fp32")
    mixed = native if wanted is None else bool(wanted)
    # transformers takes bf16 without a GPU only when told the run is on the CPU
    return {"bf16": mixed, "use_cpu": True} if mixed and not gpu else {"bf16": mixed}


# Bytes by which keeping activations grows a LoRA run's peak memory, per token of a batch and
# per layer and hidden unit: what docs/training.md's CPU example grew by over its whole run,
# above what short runs show.
ACTIVATION_BYTES = 260


def checkpointing(settings: dict, model_dir: str) -> dict[str, bool]:
    """Activation checkpointing, unless the recipe chooses: TRL's default (on) everywhere but on
    a CPU where a batch's activations fit in half the free memory: recomputing them costs a
    CPU, short of compute, a good share of each step; a GPU has compute to spare and lacks
    memory."""
    import torch

    if {"gradient_checkpointing", "activation_checkpointing"} & settings.keys() or torch.cuda.is_available():
        return {}
    try:
        config = json.loads((Path(model_dir) / "config.json").read_text())
        width = config["num_hidden_layers"] * config["hidden_size"]
        tokens = settings["per_device_train_batch_size"] * settings["max_length"]
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {"activation_checkpointing": False} if tokens * width * ACTIVATION_BYTES < free / 2 else {}


def finish(trainer, out: Path) -> dict:
    """Save the result into `out/final` and the log into metrics.jsonl; returns the last metrics."""
    trainer.save_model(str(out / "final"))
    trainer.processing_class.save_pretrained(str(out / "final"))
    with (out / "metrics.jsonl").open("w") as handle:  # a resumed state carries the earlier log
        for entry in trainer.state.log_history:
            handle.write(json.dumps(entry) + "\n")
    return trainer.state.log_history[-1] if trainer.state.log_history else {}


def stop_early(minutes: float | None = None, step: int | None = None):
    """A Trainer callback that stops training (with a checkpoint) once `minutes` have passed, so a
    long run on a slow machine can be spread over sittings with --resume, or at optimizer step
    `step` (a recipe's `stop_at_step`), which keeps the learning-rate schedule of the whole run:
    that is how a run once cut short by time is repeated exactly. None when neither is given."""
    import time

    from transformers import TrainerCallback

    if not minutes and not step:
        return None

    class StopEarly(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self.deadline = time.monotonic() + 60 * minutes if minutes else None

        def on_step_end(self, args, state, control, **kwargs):
            late = self.deadline is not None and time.monotonic() >= self.deadline
            if late or (step and state.global_step >= step):
                control.should_training_stop = True
                control.should_save = True
            return control

    return StopEarly()


def last_checkpoint(out: Path) -> str | None:
    """The newest `checkpoint-N` directory of a run, which --resume continues from."""
    found = sorted(out.glob("checkpoint-*"), key=lambda p: int(p.name.rsplit("-", 1)[1]))
    return str(found[-1]) if found else None
