"""`ieclid train sft`: the embedded GGUF dequantized and fine-tuned with LoRA for one step (smoke)."""

import json

import pytest
import yaml
from test_cli import assert_one_line_error, ieclid

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
