"""Supervised fine-tuning with TRL on `ieclid train data` output, from a GGUF or an HF checkpoint.

The loss is on the answer only: each chat becomes a prompt (every turn before the last) and a
completion (the last assistant turn), TRL's prompt-completion form. A GGUF base (the embedded
model included) is first dequantized into an HF checkpoint, so the loop runs without the Hub.
Training can start from a trained LoRA adapter (a PEFT directory, or a GGUF adapter such as the
default model's, read back into PEFT form): the same matrices go on learning from new data.
"""

from __future__ import annotations

from pathlib import Path

from ieclid.errors import IeclidError, UsageError
from ieclid.gguf_info import read_gguf
from ieclid.training.runs import checkpointing, finish, precision, start, stop_early

# Recipe keys ieclid reads itself; the rest go to TRL's SFTConfig.
OWN_KEYS = ("lora", "lora_r", "lora_alpha", "lora_dropout", "stop_at_step", "bf16")


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


def fitting(dataset, checkpoint: str, max_length: int | None):
    """The chats in prompt-completion form, without those longer than `max_length` tokens: the
    trainer would cut them at the end, which drops the answer the loss is computed on."""
    import sys

    from transformers import AutoTokenizer

    if max_length:
        tokenizer = AutoTokenizer.from_pretrained(checkpoint)
        before = len(dataset)
        dataset = dataset.filter(lambda example: len(tokenizer.apply_chat_template(
            example["messages"], tokenize=True, return_dict=True)["input_ids"]) <= max_length)
        if len(dataset) < before:
            print(f"left out {before - len(dataset)} of {before} examples longer than {max_length} tokens",
                  file=sys.stderr)
        if not len(dataset):
            raise UsageError(f"no example fits in {max_length} tokens (--max-length)")
    return dataset.map(prompt_completion, remove_columns=["messages"])


def continued(checkpoint: str, adapter: str, out: Path, dropout: float):
    """The base model with `adapter` on it, trainable: a PEFT directory as it is, a GGUF adapter
    first read back into one (`out/start`)."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    path = Path(adapter)
    if not path.is_dir():
        from ieclid.training.export import import_adapter

        import_adapter(path, Path(checkpoint), out / "start", dropout)
        path = out / "start"
    model = AutoModelForCausalLM.from_pretrained(checkpoint)
    try:
        return PeftModel.from_pretrained(model, str(path), is_trainable=True)
    except (RuntimeError, ValueError) as error:  # shapes or modules of another base
        raise UsageError(f"the adapter {adapter} does not fit the base {checkpoint}: "
                         f"{str(error).splitlines()[0]}") from None


def usable_adapter(adapter: str | None, settings: dict) -> str | None:
    """The adapter to start from, resolved (--resume may run from elsewhere), checked before the
    minute of setup: it exists, a file is a GGUF adapter, and the run trains LoRA."""
    if not adapter:
        return None
    if not settings.get("lora", True):
        raise UsageError("training from an adapter trains that adapter; leave out --full")
    path = Path(adapter)
    if not path.exists():
        raise UsageError(f"adapter not found: {adapter}")
    if path.is_file():
        try:
            is_adapter = read_gguf(path).is_adapter
        except IeclidError as error:
            raise UsageError(str(error)) from None
        if not is_adapter:
            raise UsageError(f"{adapter} is a GGUF model, not a LoRA adapter")
    return str(path.resolve())


def train(data: str | None, base: str, out: Path, settings: dict, minutes: float | None = None,
          resume: bool = False, adapter: str | None = None) -> dict:
    """Fine-tune and save (a LoRA adapter, or the whole model) into `out`; returns the last metrics.
    `minutes` bounds the wall time (a checkpoint is saved when it runs out); `resume` continues
    from the run's last checkpoint with the settings it was started with; `adapter` is a LoRA
    adapter to go on training instead of a new one."""
    sources = {"data": data, "base": base, "adapter": usable_adapter(adapter, settings)}
    settings, sources, checkpoint_dir = start(out, settings, sources, resume, ("messages",))
    data, base = sources["data"], sources["base"]
    checkpoint = hf_checkpoint(base, out)

    from datasets import load_dataset
    from trl import SFTConfig, SFTTrainer

    dataset = fitting(load_dataset("json", data_files=data, split="train"), checkpoint,
                      settings.get("max_length"))
    args = {k: v for k, v in settings.items() if k not in OWN_KEYS}
    config = SFTConfig(output_dir=str(out), report_to="none", **precision(settings),
                       **checkpointing(settings, checkpoint), **args)
    model, peft_config, dropout = checkpoint, None, settings.get("lora_dropout", 0.05)
    if sources.get("adapter"):
        model = continued(checkpoint, sources["adapter"], out, dropout)
    elif settings.get("lora", True):
        from peft import LoraConfig

        peft_config = LoraConfig(
            r=settings.get("lora_r", 16), lora_alpha=settings.get("lora_alpha", 32),
            lora_dropout=dropout, target_modules="all-linear",
            task_type="CAUSAL_LM",
        )
    stop = stop_early(minutes, settings.get("stop_at_step"))
    callbacks = [stop] if stop else None
    trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, peft_config=peft_config,
                         callbacks=callbacks)
    trainer.train(resume_from_checkpoint=checkpoint_dir)
    return finish(trainer, out)
