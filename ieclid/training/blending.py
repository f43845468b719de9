"""An adapter partway between where a LoRA run started and where it ended.

Training on narrow data (one task, one label set, a user's reviewed records) moves a model away
from what it knew. Interpolating the weights between the start and the trained model (WiSE-FT,
Wortsman et al. 2022) keeps part of the new skill and gives back part of the old, without
training again. For LoRA runs the interpolation is done on the weight changes the adapters make
(B·A times alpha/r): `weight` of the trained change plus `1 - weight` of the start's. The sum is
refactored by SVD at the trained rank when that rank holds it (so the exported adapter costs no
more at inference), else at twice the rank, which always holds it exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

from ieclid.errors import UsageError

# Share of a weight change's energy (squared singular values) the trained rank may leave out.
MAX_LOST = 1e-4


def start_adapter(run: Path, settings: dict) -> Path | None:
    """The PEFT adapter a LoRA run started from: a GGUF adapter read back into RUN/start, a PEFT
    directory given to --adapter, or a DPO run's SFT adapter; None when it started from the base."""
    if (run / "start" / "adapter_config.json").is_file():
        return run / "start"
    adapter = settings.get("adapter")
    if adapter and Path(adapter).is_dir():
        return Path(adapter)
    sft_run = settings.get("sft_run")
    if sft_run:
        return Path(sft_run) / "final"
    return None


def blend(start: Path | None, trained: Path, out: Path, weight: float) -> float:
    """Write into `out` a PEFT adapter whose weight change is `weight` × the trained adapter's plus
    `1 - weight` × the start adapter's (none: the base's, zero); returns the largest share of a
    change's energy the written rank leaves out."""
    import torch
    from safetensors.torch import load_file

    if not 0 < weight <= 1:
        raise UsageError(f"--blend must be above 0 and at most 1, not {weight}")
    config = _config(trained)
    tensors = load_file(str(trained / "adapter_model.safetensors"))
    if start is None:  # the change from the base, scaled: exact at the same rank
        scaled = {k: (v * weight if ".lora_B." in k else v).contiguous() for k, v in tensors.items()}
        _save(out, scaled, config)
        return 0.0
    start_config = _config(start)
    before = load_file(str(start / "adapter_model.safetensors"))
    if before.keys() != tensors.keys():
        raise UsageError(f"the adapters in {start} and {trained} change different modules: not blendable")
    changes = {}
    for key in sorted(k for k in tensors if ".lora_A." in k):
        b_key = key.replace(".lora_A.", ".lora_B.")
        changes[key] = (weight * _change(tensors, key, b_key, config)
                        + (1 - weight) * _change(before, key, b_key, start_config))
    rank = config["r"]
    factors = {key: torch.linalg.svd(change, full_matrices=False) for key, change in changes.items()}
    lost = max(_lost(s, rank) for _, s, _ in factors.values())
    if lost > MAX_LOST:
        rank = min(2 * rank, min(min(change.shape) for change in changes.values()))
        lost = max(_lost(s, rank) for _, s, _ in factors.values())
    scale = config["lora_alpha"] / config["r"]  # kept: the written adapter uses alpha = scale × rank
    written = {}
    for key, (u, s, vt) in factors.items():
        root = (s[:rank] / scale).sqrt()
        written[key.replace(".lora_A.", ".lora_B.")] = (u[:, :rank] * root).float().contiguous()
        written[key] = (root[:, None] * vt[:rank]).float().contiguous()
    _save(out, written, {**config, "r": rank, "lora_alpha": scale * rank})
    return lost


def _config(adapter: Path) -> dict:
    path = adapter / "adapter_config.json"
    if not path.is_file() or not (adapter / "adapter_model.safetensors").is_file():
        raise UsageError(f"{adapter} is not a PEFT LoRA adapter directory")
    config = json.loads(path.read_text())
    if any(config.get(key) for key in ("use_rslora", "use_dora", "rank_pattern", "alpha_pattern")):
        raise UsageError(f"{adapter}: only plain LoRA adapters with one rank can be blended")
    return config


def _change(tensors: dict, a_key: str, b_key: str, config: dict):
    """The weight change one module's LoRA makes, in float64."""
    return (config["lora_alpha"] / config["r"]) * (tensors[b_key].double() @ tensors[a_key].double())


def _lost(singular, rank: int) -> float:
    energy = singular.square()
    return float(energy[rank:].sum() / energy.sum().clamp_min(1e-30))


def _save(out: Path, tensors: dict, config: dict) -> None:
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / "adapter_model.safetensors"))
    (out / "adapter_config.json").write_text(json.dumps(config, indent=1))
