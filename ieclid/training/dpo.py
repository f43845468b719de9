"""DPO with TRL on `ieclid train pairs` output, starting from an `ieclid train sft` run.

After a LoRA SFT run, the SFT adapter itself is trained further and TRL keeps a frozen copy of
it as the reference policy, so the result is again one adapter on the same base, exported and
applied like the SFT one. After a full SFT run, the fine-tuned model is trained and its saved
copy is the reference.
"""

from __future__ import annotations

from pathlib import Path

from ieclid.errors import UsageError
from ieclid.training.runs import finish, precision, run_settings, start, stop_early


def sft_run(path: Path) -> dict:
    """The settings of the SFT run DPO starts from (its base, and whether it trained a LoRA)."""
    settings_file = path / "settings.yaml"
    if not settings_file.is_file() or not (path / "final").is_dir():
        raise UsageError(f"{path} is not a finished run of 'ieclid train sft' (no settings.yaml and final/)")
    return run_settings(path)


def train(pairs: str | None, sft: Path | None, out: Path, settings: dict, minutes: float | None = None,
          resume: bool = False) -> dict:
    """Preference-tune the SFT run's model on `pairs` into `out`; returns the last metrics."""
    if not resume:  # checked before anything is written into `out`
        previous = sft_run(sft)
        settings = {**settings, "base": previous["base"], "lora": previous.get("lora", True)}
    sources = {"data": pairs, "sft_run": str(sft) if sft else None}
    # The export reads `base` and `lora` from the settings, as from an SFT run.
    settings, sources, checkpoint_dir = start(out, settings, sources, resume,
                                              ("prompt", "chosen", "rejected"))
    sft = Path(sources["sft_run"])
    lora = settings["lora"]
    base = out / "base"
    if lora and not base.exists():
        base.symlink_to((sft / "base").resolve(), target_is_directory=True)

    from datasets import load_dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    tokenizer = AutoTokenizer.from_pretrained(sft / "final")
    if lora:
        from peft import PeftModel

        model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), sft / "final",
                                          is_trainable=True)
    else:
        model = str(sft / "final")
    dataset = load_dataset("json", data_files=sources["data"], split="train")
    args = {k: v for k, v in settings.items() if k not in ("lora", "base", "bf16")}  # recorded for the export
    config = DPOConfig(output_dir=str(out), report_to="none", **precision(settings), **args)
    callbacks = [stop_early(minutes)] if minutes else None
    trainer = DPOTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer,
                         callbacks=callbacks)
    trainer.train(resume_from_checkpoint=checkpoint_dir)
    return finish(trainer, out)
