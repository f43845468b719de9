"""`ieclid train export --blend`: an adapter partway between where a LoRA run started and where it
ended, checked on the weight changes themselves (B·A times alpha/r)."""

import json
from pathlib import Path

import pytest
import yaml
from test_cli import assert_one_line_error, ieclid

from ieclid.errors import UsageError

torch = pytest.importorskip("torch", reason="the train extra is not installed")
safetensors = pytest.importorskip("safetensors.torch")

MODULES = ("self_attn.q_proj", "mlp.down_proj")
SHAPES = {"self_attn.q_proj": (24, 16), "mlp.down_proj": (16, 40)}  # (out, in)


def write_adapter(folder: Path, rank: int, alpha: float, seed: int, **config) -> Path:
    generator = torch.Generator().manual_seed(seed)
    tensors = {}
    for layer in range(2):
        for module in MODULES:
            rows, columns = SHAPES[module]
            key = f"base_model.model.model.layers.{layer}.{module}"
            tensors[f"{key}.lora_A.weight"] = torch.randn(rank, columns, generator=generator)
            tensors[f"{key}.lora_B.weight"] = torch.randn(rows, rank, generator=generator)
    folder.mkdir(parents=True)
    safetensors.save_file(tensors, str(folder / "adapter_model.safetensors"))
    settings = {"peft_type": "LORA", "r": rank, "lora_alpha": alpha, "target_modules": ["q_proj", "down_proj"]}
    (folder / "adapter_config.json").write_text(json.dumps({**settings, **config}))
    return folder


def changes(folder: Path) -> dict:
    """Each module's weight change, in float64."""
    config = json.loads((folder / "adapter_config.json").read_text())
    tensors = safetensors.load_file(str(folder / "adapter_model.safetensors"))
    scale = config["lora_alpha"] / config["r"]
    return {key: scale * (tensors[key.replace("lora_A", "lora_B")].double() @ value.double())
            for key, value in tensors.items() if "lora_A" in key}


def close(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.allclose(a[k], b[k], rtol=1e-4, atol=1e-4) for k in a)


def test_a_blend_is_the_weighted_sum_of_the_two_changes(tmp_path):
    from ieclid.training.blending import blend

    start = write_adapter(tmp_path / "start", 4, 8.0, seed=1)
    trained = write_adapter(tmp_path / "trained", 4, 16.0, seed=2)  # another alpha: scales differ
    before, after = changes(start), changes(trained)

    lost = blend(start, trained, tmp_path / "half", 0.5)
    # two unrelated rank-4 changes need rank 8: the written adapter doubles its rank, exactly
    assert lost < 1e-12
    assert json.loads((tmp_path / "half" / "adapter_config.json").read_text())["r"] == 8
    assert close(changes(tmp_path / "half"), {k: 0.5 * after[k] + 0.5 * before[k] for k in after})
    assert not close(changes(tmp_path / "half"), after)

    blend(start, trained, tmp_path / "all", 1.0)
    assert close(changes(tmp_path / "all"), after)
    assert json.loads((tmp_path / "all" / "adapter_config.json").read_text())["r"] == 4


def test_a_run_that_moved_its_start_a_little_keeps_its_rank(tmp_path):
    """Training on from an adapter changes it a little: the blend fits the trained rank (no
    slower adapter), with the share of energy it leaves out reported."""
    from ieclid.training.blending import blend

    start = write_adapter(tmp_path / "start", 4, 8.0, seed=1)
    tensors = safetensors.load_file(str(start / "adapter_model.safetensors"))
    generator = torch.Generator().manual_seed(3)
    nudged = {k: v + 0.01 * torch.randn(v.shape, generator=generator) for k, v in tensors.items()}
    trained = tmp_path / "trained"
    trained.mkdir()
    safetensors.save_file(nudged, str(trained / "adapter_model.safetensors"))
    (trained / "adapter_config.json").write_text((start / "adapter_config.json").read_text())

    lost = blend(start, trained, tmp_path / "out", 0.3)
    assert 0 < lost < 1e-4
    assert json.loads((tmp_path / "out" / "adapter_config.json").read_text())["r"] == 4
    before, after, mixed = changes(start), changes(trained), changes(tmp_path / "out")
    for key, value in mixed.items():
        wanted = 0.3 * after[key] + 0.7 * before[key]
        assert torch.linalg.norm(value - wanted) / torch.linalg.norm(wanted) < 0.01


def test_a_run_from_the_base_is_scaled_towards_it(tmp_path):
    from ieclid.training.blending import blend

    trained = write_adapter(tmp_path / "trained", 4, 8.0, seed=2)
    assert blend(None, trained, tmp_path / "out", 0.25) == 0.0
    assert close(changes(tmp_path / "out"), {k: 0.25 * v for k, v in changes(trained).items()})


def test_blends_that_cannot_be_made_are_refused(tmp_path):
    from ieclid.training.blending import blend

    trained = write_adapter(tmp_path / "trained", 4, 8.0, seed=2)
    for weight in (0, -0.5, 1.5):
        with pytest.raises(UsageError, match="--blend must be above 0 and at most 1"):
            blend(None, trained, tmp_path / "out", weight)
    dora = write_adapter(tmp_path / "dora", 4, 8.0, seed=1, use_dora=True)
    with pytest.raises(UsageError, match="only plain LoRA"):
        blend(dora, trained, tmp_path / "out", 0.5)
    other = write_adapter(tmp_path / "other", 4, 8.0, seed=1)
    tensors = safetensors.load_file(str(other / "adapter_model.safetensors"))
    safetensors.save_file({k: v for k, v in tensors.items() if "layers.1." not in k},
                          str(other / "adapter_model.safetensors"))
    with pytest.raises(UsageError, match="change different modules"):
        blend(other, trained, tmp_path / "out", 0.5)
    with pytest.raises(UsageError, match="not a PEFT LoRA adapter directory"):
        blend(tmp_path / "missing", trained, tmp_path / "out", 0.5)


def test_the_start_of_a_run_is_where_it_began(tmp_path):
    from ieclid.training.blending import start_adapter

    run = tmp_path / "run"
    assert start_adapter(run, {"base": "smollm2"}) is None
    peft = write_adapter(tmp_path / "mine", 4, 8.0, seed=1)
    assert start_adapter(run, {"adapter": str(peft)}) == peft
    assert start_adapter(run, {"sft_run": str(tmp_path / "sft")}) == tmp_path / "sft" / "final"
    write_adapter(run / "start", 4, 8.0, seed=1)  # a GGUF adapter read back by `ieclid train sft`
    assert start_adapter(run, {"adapter": "smollm2-ie.gguf"}) == run / "start"


def test_export_refuses_a_blend_it_cannot_make(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "settings.yaml").write_text(yaml.safe_dump({"base": "smollm2", "lora": False}))
    assert_one_line_error(ieclid("train", "export", "--run", str(run), "--merged", "--blend", "0.5"), 2,
                          "--blend applies to LoRA runs")
    (run / "settings.yaml").write_text(yaml.safe_dump({"base": "smollm2", "lora": True}))
    write_adapter(run / "final", 4, 8.0, seed=1)
    assert_one_line_error(ieclid("train", "export", "--run", str(run), "--blend", "1.5"), 2,
                          "--blend must be above 0 and at most 1")
    assert not list(run.glob("*.gguf"))
