"""A trained LoRA adapter as a GGUF adapter that llama.cpp applies to the quantized base, and back.

PEFT's `lora_A` (r × in) and `lora_B` (out × r) become `blk.N.<tensor>.weight.lora_a/lora_b`.
llama.cpp stores the query and key projections with their rows permuted for its rotary
layout (transformers undoes that when it loads a GGUF), so `lora_B` of q/k is permuted the
same way. The way back (`import_adapter`) lets training continue from an adapter that ships only
as GGUF, such as the default model's. The export is then checked: llama.cpp with the adapter
must change the base's predictions as the adapter changes the HF model's, and both tokenizers
must agree on probe texts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ieclid.backends.weight_buffers import weights_off_amx
from ieclid.errors import IeclidError, UsageError
from ieclid.profiles import PROFILE_KEY
from ieclid.training.gguf_weights import finish, llama_base, permute_rows, unpermute_rows, write_f16

NAMES = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
_KEY = re.compile(r"base_model\.model\.model\.layers\.(\d+)\.(.+)\.lora_([AB])\.weight$")
# The adapter is checked on a 16-bit copy of the run's base, not on the quantized base it will run
# with: a quantized base's rounding noise swamps the change of a short run. Below this mean logit
# change, even 16-bit rounding hides the adapter's effect; above it, a faithful export moves
# llama.cpp's logits as it moves the HF model's (tests/test_train_sft.py).
MIN_CHANGE = 0.15
MIN_COSINE = 0.99
PROBES = (
    "Angela Merkel met Emmanuel Macron in Paris on Monday.",
    "The patient developed a severe rash after taking amoxicillin 500 mg.",
    "@user lol that's sooo 2019 #throwback :)",
)


def _heads(config: dict) -> dict[str, int]:
    return {"self_attn.q_proj": config["num_attention_heads"],
            "self_attn.k_proj": config.get("num_key_value_heads", config["num_attention_heads"])}


def export_adapter(adapter_dir: Path, base_dir: Path, out: Path) -> int:
    """Write the GGUF adapter; returns how many tensors it holds."""
    import gguf
    import numpy as np
    from safetensors import safe_open

    settings = _json(adapter_dir / "adapter_config.json")
    config = _json(base_dir / "config.json")
    if config.get("model_type") != "llama":
        kind = config.get("model_type")
        raise UsageError(f"only llama-architecture adapters are exported so far, not {kind}")
    if settings.get("use_rslora") or settings.get("use_dora"):
        raise UsageError("rsLoRA and DoRA adapters cannot be written for llama.cpp; train plain LoRA")
    heads = _heads(config)
    writer = gguf.GGUFWriter(str(out), arch="llama")
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(settings["lora_alpha"]))
    writer.add_string(PROFILE_KEY, "adelie")  # trained on `ieclid train data`: ADELIE's wording
    count = 0
    with safe_open(str(adapter_dir / "adapter_model.safetensors"), "np") as tensors:
        for key in tensors.keys():  # noqa: SIM118 - safe_open has no __iter__
            match = _KEY.match(key)
            if not match or match.group(2) not in NAMES:
                raise UsageError(f"adapter tensor {key} has no llama.cpp counterpart (train with target "
                                 "modules among q/k/v/o/gate/up/down)")
            layer, module, side = match.groups()
            tensor = tensors.get_tensor(key).astype(np.float16)  # half the size; llama.cpp reads f16
            if side == "B" and module in heads:
                tensor = permute_rows(tensor, heads[module])
            name = f"blk.{layer}.{NAMES[module]}.weight.lora_{side.lower()}"
            writer.add_tensor(name, np.ascontiguousarray(tensor))
            count += 1
    finish(writer)
    return count


def import_adapter(adapter_gguf: Path, base_dir: Path, out: Path, dropout: float) -> int:
    """A GGUF LoRA adapter (as `export_adapter` writes it) as a PEFT adapter directory in `out`, to
    train on from there; returns how many tensors it holds. Float16 weights come back exactly."""
    import gguf
    import numpy as np
    from safetensors.numpy import save_file

    modules = {short: module for module, short in NAMES.items()}
    heads = _heads(_json(base_dir / "config.json"))
    try:
        reader = gguf.GGUFReader(str(adapter_gguf))
    except (OSError, ValueError) as error:
        raise UsageError(f"{adapter_gguf}: not a readable GGUF file ({error})") from None
    alpha = reader.fields.get("adapter.lora.alpha")
    if alpha is None or "lora_a" not in "".join(t.name for t in reader.tensors):
        raise UsageError(f"{adapter_gguf} is not a LoRA adapter GGUF")
    tensors, ranks = {}, set()
    for tensor in reader.tensors:
        match = re.fullmatch(r"blk\.(\d+)\.(\w+)\.weight\.lora_([ab])", tensor.name)
        if not match or match.group(2) not in modules:
            raise UsageError(f"{adapter_gguf}: tensor {tensor.name} is not one ieclid can train on")
        layer, short, side = match.groups()
        module = modules[short]
        weight = np.array(tensor.data, dtype=np.float32)  # numpy order already: rows x columns
        if side == "b" and module in heads:
            weight = unpermute_rows(weight, heads[module])
        ranks.add(weight.shape[0] if side == "a" else weight.shape[1])
        key = f"base_model.model.model.layers.{layer}.{module}.lora_{side.upper()}.weight"
        tensors[key] = np.ascontiguousarray(weight)
    if len(ranks) != 1:
        raise UsageError(f"{adapter_gguf}: its LoRA tensors have different ranks {sorted(ranks)}")
    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / "adapter_model.safetensors"))
    targets = sorted({key.split(".")[-3] for key in tensors})
    config = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": ranks.pop(),
              "lora_alpha": float(alpha.parts[alpha.data[0]][0]), "lora_dropout": dropout, "bias": "none",
              "target_modules": targets, "base_model_name_or_path": str(base_dir), "inference_mode": False}
    (out / "adapter_config.json").write_text(json.dumps(config, indent=1))
    return len(tensors)


def load_tuned(model_dir: Path, adapter_dir: Path | None = None):
    """A trained model in float32: an HF model directory, with a LoRA adapter merged in if given."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    if adapter_dir is None:
        return model.eval()
    from peft import PeftModel

    return PeftModel.from_pretrained(model, adapter_dir).merge_and_unload().eval()


def verify(adapter_dir: Path, base_dir: Path, base_gguf: str, adapter_gguf: Path) -> dict:
    """Tokenizer parity on the probes, and whether the adapter changes llama.cpp's logits the way it
    changes the HF model's: the cosine of the two logit changes. llama.cpp runs a 16-bit copy of the
    HF base written with `base_gguf`'s metadata (beside the adapter, removed afterwards)."""
    import tempfile

    import llama_cpp
    from transformers import AutoTokenizer

    reader = llama_base(base_gguf)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    tuned = load_tuned(base_dir, adapter_dir)
    base = load_tuned(base_dir)
    with tempfile.TemporaryDirectory(dir=adapter_gguf.parent, prefix=".check-") as work:
        f16 = Path(work) / "base-F16.gguf"
        write_f16(base, reader, f16, None)
        with weights_off_amx():
            plain = llama_cpp.Llama(model_path=str(f16), n_ctx=512, logits_all=True, verbose=False)
            adapted = llama_cpp.Llama(
                model_path=str(f16), lora_path=str(adapter_gguf), n_ctx=512, logits_all=True, verbose=False
            )
        try:
            return _compare(tokenizer, (base, plain), (tuned, adapted))
        finally:
            plain.close()
            adapted.close()


def _compare(tokenizer, plain: tuple, adapted: tuple) -> dict:
    """The cosine of the logit changes (adapted minus plain) on the probes, HF against llama.cpp;
    `plain` and `adapted` are (HF model, llama.cpp model) pairs."""
    import numpy as np
    import torch

    hf_change, cpp_change = [], []
    for text in PROBES:
        tokens = plain[1].tokenize(text.encode(), add_bos=False, special=False)
        if tokens != tokenizer(text, add_special_tokens=False)["input_ids"]:
            raise IeclidError(f"tokenizers disagree on the probe {text!r}: the GGUF is not this model's")
        logits = []
        for hf_model, llm in (plain, adapted):
            with torch.no_grad():
                hf = hf_model(torch.tensor([tokens])).logits[0].numpy()
            llm.reset()
            llm.eval(tokens)
            logits.append((hf, np.array(llm.scores[: len(tokens)])))
        hf_change.append((logits[1][0] - logits[0][0]).ravel())
        cpp_change.append((logits[1][1] - logits[0][1]).ravel())
    a, b = np.concatenate(hf_change), np.concatenate(cpp_change)
    # What the adapter changes, as llama.cpp applies it, against what it changes in the HF model:
    # the 16-bit base's own rounding cancels out of both differences.
    cosine = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
    size = float(np.abs(a).mean())
    result = {"change_cosine": round(cosine, 4), "change_size": round(size, 5)}
    result["compared"] = size >= MIN_CHANGE
    if result["compared"] and cosine < MIN_COSINE:
        raise IeclidError(f"llama.cpp with the adapter disagrees with the trained model ({result})")
    return result


def _json(path: Path) -> dict:
    if not path.is_file():
        raise UsageError(f"not found: {path}")
    return json.loads(path.read_text())
