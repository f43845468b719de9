"""`ieclid train`'s whole loop on the embedded model (data, SFT, pairs, DPO, export as adapter and as
a quantized GGUF, extraction with both; a few steps each), resumption, and checks that exports
are faithful."""

import json
from pathlib import Path

import pytest
import yaml
from test_cli import assert_one_line_error, ieclid

from ieclid.errors import IeclidError
from ieclid.gguf_info import read_gguf

pytest.importorskip("trl", reason="the train extra is not installed")
pytestmark = pytest.mark.slow


def test_sft_runs_from_the_embedded_gguf(shared_data, tmp_path):
    data = tmp_path / "sft.jsonl"
    made = ieclid("train", "data", "--source", f"{shared_data}/wnut17/train_first2000.conll:wnut17",
                  "--cap", "8", "--out", str(data))
    assert made.returncode == 0, made.stderr
    run = tmp_path / "run"
    result = ieclid("train", "sft", "--data", str(data), "--out", str(run), "--max-steps", "1",
                    "--batch-size", "2", "--grad-accum", "1", "--max-length", "256", timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (run / "base" / "config.json").is_file()  # the dequantized GGUF, reused by later runs
    assert "quantization_config" not in json.loads((run / "base" / "config.json").read_text())
    assert (run / "final" / "adapter_model.safetensors").is_file()
    settings = yaml.safe_load((run / "settings.yaml").read_text())
    assert settings["max_steps"] == 1 and settings["lora"] is True and settings["learning_rate"] == 2e-5
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert metrics[-1]["train_loss"] > 0
    assert_one_line_error(ieclid("train", "sft", "--data", str(tmp_path / "none.jsonl"), "--out", str(run)), 2,
                          "training data not found")

    exported = ieclid("train", "export", "--run", str(run))
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert "tokenizers agree" in exported.stderr
    assert read_gguf(run / "adapter.gguf").is_adapter
    used = ieclid("extract", "--lora", str(run / "adapter.gguf"), "--quiet", "-", stdin="Ann met Bob in Paris.\n")
    # on the CPU the trained adapter is merged into the model's Q8_0 copy, like the default's
    assert used.returncode == 0 and "+adapter" in json.loads(used.stdout)["model"]
    assert json.loads(used.stdout)["profile"] == "adelie"  # the adapter says what it was trained for

    pairs = tmp_path / "pairs.jsonl"
    sampled = ieclid("train", "pairs", "--data", str(data), "--lora", str(run / "adapter.gguf"), "--limit", "4",
                     "--samples", "3", "--out", str(pairs), "--quiet")
    assert sampled.returncode == 0, sampled.stderr[-2000:]
    made = [json.loads(line) for line in pairs.read_text().splitlines()]
    assert made and all(p["chosen"] != p["rejected"] and p["prompt"][-1]["role"] == "user" for p in made)
    assert_one_line_error(ieclid("train", "pairs", "--data", str(data), "--lora", "none.gguf", "--out",
                                 str(pairs)), 2, "LoRA adapter not found")

    dpo = tmp_path / "dpo"
    tuned = ieclid("train", "dpo", "--pairs", str(pairs), "--sft", str(run), "--out", str(dpo), "--max-steps", "1",
                   "--batch-size", "2", "--grad-accum", "1", "--max-length", "512", "--lr", "5e-6", timeout=900)
    assert tuned.returncode == 0, tuned.stderr[-2000:]
    assert (dpo / "final" / "adapter_model.safetensors").is_file()
    assert yaml.safe_load((dpo / "settings.yaml").read_text())["beta"] == 0.1
    assert_one_line_error(ieclid("train", "dpo", "--pairs", str(pairs), "--sft", str(tmp_path), "--out",
                                 str(dpo)), 2, "is not a finished run of 'ieclid train sft'")

    merged = ieclid("train", "export", "--run", str(dpo), "--merged", "--quant", "Q8_0")
    assert merged.returncode == 0, merged.stderr[-2000:]
    assert "same top token" in merged.stderr and (dpo / "model-Q8_0.gguf").is_file()
    used = ieclid("extract", "--model", str(dpo / "model-Q8_0.gguf"), "--quiet", "-", stdin="Ann met Bob.\n")
    assert used.returncode == 0 and json.loads(used.stdout)["model"] == "model-Q8_0"
    assert json.loads(used.stdout)["profile"] == "adelie"
    assert_one_line_error(ieclid("train", "export", "--run", str(dpo), "--quant", "Q4_K_M"), 2,
                          "--quant applies to --merged exports")


def test_a_time_limited_run_resumes_where_it_stopped(shared_data, tmp_path):
    data = tmp_path / "sft.jsonl"
    ieclid("train", "data", "--source", f"{shared_data}/wnut17/train_first2000.conll:wnut17", "--cap", "8",
           "--out", str(data))
    run = tmp_path / "run"
    first = ieclid("train", "sft", "--data", str(data), "--out", str(run), "--max-steps", "2", "--batch-size", "2",
                   "--grad-accum", "1", "--max-length", "256", "--time-limit", "0.001", "--fp32", timeout=900)
    assert first.returncode == 0, first.stderr[-2000:]
    assert yaml.safe_load((run / "settings.yaml").read_text())["bf16"] is False  # kept for --resume
    assert [p.name for p in run.glob("checkpoint-*")] == ["checkpoint-1"]  # stopped after one step
    second = ieclid("train", "sft", "--out", str(run), "--resume", timeout=900)
    assert second.returncode == 0, second.stderr[-2000:]
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert metrics[-1]["step"] == 2
    assert_one_line_error(ieclid("train", "sft", "--out", str(tmp_path / "new"), "--resume"), 2,
                          "nothing to resume")


def test_exported_adapter_predicts_like_the_hf_model(tmp_path, monkeypatch):
    """A random LoRA that changes the model a lot: llama.cpp with the exported GGUF must follow
    the HF model with the adapter; without the q/k row permutation it does not. A tenth of it, as
    faint as a short run's, is compared and passes too (through the quantized base it failed)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from ieclid.models import embedded_model_path
    from ieclid.training import export
    from ieclid.training.sft import hf_checkpoint

    base_dir = Path(hf_checkpoint("smollm2", tmp_path))
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    config = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
    peft_model = get_peft_model(model, config)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, parameter in peft_model.named_parameters():
            if "lora_" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.08)
    adapter = tmp_path / "adapter"
    peft_model.save_pretrained(adapter)

    right = tmp_path / "right.gguf"
    export.export_adapter(adapter, base_dir, right)
    good = export.verify(adapter, base_dir, embedded_model_path(), right)
    assert good["compared"] and good["change_cosine"] >= 0.999, good
    assert not list(tmp_path.glob(".check-*"))  # the 16-bit base it was checked on is gone

    with torch.no_grad():
        for name, parameter in peft_model.named_parameters():
            if "lora_B" in name:
                parameter.mul_(0.1)
    faint = tmp_path / "faint"
    peft_model.save_pretrained(faint)
    export.export_adapter(faint, base_dir, tmp_path / "faint.gguf")
    small = export.verify(faint, base_dir, embedded_model_path(), tmp_path / "faint.gguf")
    assert small["compared"] and small["change_size"] < 1 and small["change_cosine"] >= 0.99, small

    monkeypatch.setattr(export, "permute_rows", lambda weight, n_head: weight)
    wrong = tmp_path / "wrong.gguf"
    export.export_adapter(adapter, base_dir, wrong)
    with pytest.raises(IeclidError, match="disagrees"):
        export.verify(adapter, base_dir, embedded_model_path(), wrong)


def test_merged_export_is_checked_against_the_trained_model(tmp_path, monkeypatch):
    """The whole model written from HF weights into the base's GGUF layout, then quantized: llama.cpp
    must predict what the HF model predicts; without the q/k row permutation it does not."""
    from ieclid.models import embedded_model_path
    from ieclid.training import gguf_weights, merged_gguf
    from ieclid.training.sft import hf_checkpoint

    run = tmp_path / "run"
    hf_checkpoint("smollm2", run)
    (run / "final").symlink_to(run / "base")  # a "full fine-tuning" that changed nothing
    good = tmp_path / "good.gguf"
    written = merged_gguf.write_merged(run, embedded_model_path(), good, "Q8_0", None)
    assert written["tensors"] == 272 and read_gguf(good).quantization == "Q8_0"
    result = merged_gguf.verify_merged(run, None, good)
    assert result["logit_cosine"] >= 0.99 and result["top1_agreement"] >= 0.9, result

    monkeypatch.setattr(gguf_weights, "permute_rows", lambda weight, n_head: weight)
    wrong = tmp_path / "wrong.gguf"
    merged_gguf.write_merged(run, embedded_model_path(), wrong, "Q8_0", None)
    with pytest.raises(IeclidError, match="disagrees"):
        merged_gguf.verify_merged(run, None, wrong)


def test_training_goes_on_from_the_default_models_adapter(shared_data, tmp_path):
    """--base smollm2-ie trains the shipped adapter on, read back from its GGUF exactly: a run that
    learns nothing (learning rate 0) exports the very tensors that ship."""
    import gguf
    import numpy as np

    from ieclid.models import ALIGNED_ADAPTER, embedded_model_path

    data = tmp_path / "sft.jsonl"
    ieclid("train", "data", "--source", f"{shared_data}/wnut17/train_first2000.conll:wnut17", "--cap", "4",
           "--out", str(data))
    run = tmp_path / "run"
    trained = ieclid("train", "sft", "--data", str(data), "--base", "smollm2-ie", "--out", str(run), "--max-steps",
                     "1", "--batch-size", "2", "--grad-accum", "1", "--max-length", "384", "--lr", "0", timeout=900)
    assert trained.returncode == 0, trained.stderr[-2000:]
    settings = yaml.safe_load((run / "settings.yaml").read_text())
    assert settings["base"] == "smollm2" and settings["adapter"] == str(ALIGNED_ADAPTER)
    exported = ieclid("train", "export", "--run", str(run), "--no-check")
    assert exported.returncode == 0, exported.stderr[-2000:]
    shipped = {t.name: np.array(t.data) for t in gguf.GGUFReader(str(ALIGNED_ADAPTER)).tensors}
    again = {t.name: np.array(t.data) for t in gguf.GGUFReader(str(run / "adapter.gguf")).tensors}
    assert len(shipped) == 420 and shipped.keys() == again.keys()
    assert all(np.array_equal(shipped[name], again[name]) for name in shipped)
    # a blend of a run that learned nothing is the adapter it started from, refactored
    blended = ieclid("train", "export", "--run", str(run), "--blend", "0.5", "--no-check")
    assert blended.returncode == 0, blended.stderr[-2000:]
    assert f"0.5 of the adapter it started from ({run / 'start'})" in blended.stderr
    half = {t.name: np.array(t.data, dtype=np.float64) for t in
            gguf.GGUFReader(str(run / "adapter-blend-0.5.gguf")).tensors}
    for name in (n for n in shipped if n.endswith("lora_a")):
        b_name = name[:-1] + "b"
        wanted = shipped[b_name].astype(np.float64) @ shipped[name].astype(np.float64)
        assert np.allclose(half[b_name] @ half[name], wanted, atol=2e-3 * np.abs(wanted).max())
    merged = ieclid("train", "export", "--run", str(run), "--merged", "--quant", "Q8_0", "--blend", "0.5")
    assert merged.returncode == 0, merged.stderr[-2000:]
    assert read_gguf(run / "model-Q8_0-blend-0.5.gguf").quantization == "Q8_0"
    assert "next-token logits cosine" in merged.stderr  # checked against the blended HF model

    def sft(*args):
        return ieclid("train", "sft", "--data", str(data), "--out", str(run), *args, timeout=900)

    assert_one_line_error(sft("--base", "smollm2-ie", "--adapter", str(ALIGNED_ADAPTER)), 2,
                          "smollm2-ie brings its own adapter")
    assert_one_line_error(sft("--adapter", str(tmp_path / "none.gguf")), 2, "adapter not found")
    assert_one_line_error(sft("--adapter", str(data)), 2, "is not a GGUF model file")
    assert_one_line_error(sft("--adapter", embedded_model_path()), 2, "a GGUF model, not a LoRA adapter")


def test_stop_early_stops_at_the_recipe_step_and_keeps_going_before_it():
    from transformers import TrainerControl, TrainerState

    from ieclid.training.runs import stop_early

    assert stop_early() is None
    stop, state, control = stop_early(step=3), TrainerState(), TrainerControl()
    stop.on_train_begin(None, state, control)
    state.global_step = 2
    assert not stop.on_step_end(None, state, control).should_training_stop
    state.global_step = 3
    control = stop.on_step_end(None, state, control)
    assert control.should_training_stop and control.should_save
