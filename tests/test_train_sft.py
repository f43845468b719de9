"""`ieclid train sft` and `export`: the embedded GGUF dequantized, LoRA-tuned for a step, back as a GGUF
adapter that llama.cpp applies (smoke), and a check that the export is faithful."""

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
    assert used.returncode == 0 and json.loads(used.stdout)["model"].endswith("+adapter")


def test_exported_adapter_predicts_like_the_hf_model(tmp_path, monkeypatch):
    """A random LoRA that changes the model a lot: llama.cpp with the exported GGUF must follow
    the HF model with the adapter; without the q/k row permutation it does not."""
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
    assert good["compared"] and good["change_cosine"] >= 0.99, good

    monkeypatch.setattr(export, "permute_rows", lambda weight, n_head: weight)
    wrong = tmp_path / "wrong.gguf"
    export.export_adapter(adapter, base_dir, wrong)
    with pytest.raises(IeclidError, match="disagrees"):
        export.verify(adapter, base_dir, embedded_model_path(), wrong)
