"""Supervised fine-tuning with TRL on `ieclid train data` output, from a GGUF or an HF checkpoint.

The loss is on the answer only: each chat becomes a prompt (every turn before the last) and a
completion (the last assistant turn), TRL's prompt-completion form. A GGUF base (the embedded
model included) is first dequantized into an HF checkpoint, so the loop runs without the Hub.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ieclid.errors import UsageError

_PACKAGE = Path(__file__).resolve().parent.parent
# The recipe ships in the wheel (ieclid/train) or, from a checkout, at the top (train/).
DEFAULTS = next((d / "sft.yaml" for d in (_PACKAGE / "train", _PACKAGE.parent / "train") if d.is_dir()),
                _PACKAGE.parent / "train" / "sft.yaml")
PEFT_KEYS = ("lora", "lora_r", "lora_alpha", "lora_dropout")


def load_settings(path: Path | None, overrides: dict) -> dict:
    """The recipe file (ieclid's train/sft.yaml by default) with command-line overrides."""
    source = path or DEFAULTS
    if not source.is_file():
        raise UsageError(f"training settings not found: {source}")
    settings = yaml.safe_load(source.read_text()) or {}
    settings.update({k: v for k, v in overrides.items() if v is not None})
    return settings


def hf_checkpoint(base: str, work: Path) -> str:
    """An HF model directory to train: `base` itself, or a GGUF dequantized into `work/base`."""
    if Path(base).is_dir():
        return base
    from ieclid.models import resolve_model

    gguf = Path(resolve_model(base))
    target = work / "base"
    if (target / "config.json").is_file():
        return str(target)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # A GGUF-loaded model refuses save_pretrained; its dequantized weights go into a plain one.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the copy is plain float weights
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return str(target)


def prompt_completion(example: dict) -> dict:
    messages = example["messages"]
    return {"prompt": messages[:-1], "completion": messages[-1:]}


def require_train_extra() -> None:
    import importlib.util

    missing = [m for m in ("torch", "transformers", "trl", "peft", "datasets", "gguf")
               if importlib.util.find_spec(m) is None]
    if missing:
        names = ", ".join(missing)
        raise UsageError(f"training needs the train extra (pip install 'ieclid[train]'); missing: {names}")


def train(data: str, base: str, out: Path, settings: dict) -> dict:
    """Fine-tune and save (a LoRA adapter, or the whole model) into `out`; returns the last metrics."""
    require_train_extra()
    if not Path(data).is_file():
        raise UsageError(f"training data not found: {data}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "settings.yaml").write_text(yaml.safe_dump({**settings, "data": data, "base": base}))
    checkpoint = hf_checkpoint(base, out)

    import torch
    from datasets import load_dataset
    from trl import SFTConfig, SFTTrainer

    dataset = load_dataset("json", data_files=data, split="train").map(
        prompt_completion, remove_columns=["messages"]
    )
    args = {k: v for k, v in settings.items() if k not in PEFT_KEYS}
    bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    config = SFTConfig(output_dir=str(out), report_to="none", bf16=bf16, **args)
    peft_config = None
    if settings.get("lora", True):
        from peft import LoraConfig

        peft_config = LoraConfig(
            r=settings.get("lora_r", 16), lora_alpha=settings.get("lora_alpha", 32),
            lora_dropout=settings.get("lora_dropout", 0.05), target_modules="all-linear",
            task_type="CAUSAL_LM",
        )
    trainer = SFTTrainer(model=checkpoint, args=config, train_dataset=dataset, peft_config=peft_config)
    trainer.train()
    trainer.save_model(str(out / "final"))
    trainer.processing_class.save_pretrained(str(out / "final"))
    with (out / "metrics.jsonl").open("w") as handle:
        for entry in trainer.state.log_history:
            handle.write(json.dumps(entry) + "\n")
    return trainer.state.log_history[-1] if trainer.state.log_history else {}
