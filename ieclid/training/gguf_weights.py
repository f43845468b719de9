"""HF weights in llama.cpp's layout: the q/k row permutation, and a model written at 16 bits into
a base GGUF's tensor order with its metadata, which both exports build on."""

from __future__ import annotations

from pathlib import Path

from ieclid.backends.lora_merge import copy_metadata
from ieclid.backends.quantizer import FTYPES
from ieclid.errors import IeclidError, UsageError
from ieclid.profiles import PROFILE_KEY


def permute_rows(weight, n_head: int):
    """llama.cpp's q/k row order (convert_hf_to_gguf's `permute`)."""
    rows = weight.shape[0]
    grouped = weight.reshape(n_head, 2, rows // n_head // 2, *weight.shape[1:])
    return grouped.swapaxes(1, 2).reshape(weight.shape)


def unpermute_rows(weight, n_head: int):
    """The inverse of `permute_rows`: transformers' row order back from llama.cpp's."""
    rows = weight.shape[0]
    grouped = weight.reshape(n_head, rows // n_head // 2, 2, *weight.shape[1:])
    return grouped.swapaxes(1, 2).reshape(weight.shape)


def llama_base(base_gguf: str):
    """The base GGUF's reader, refused unless it is a llama-architecture model: checked before the
    trained model is loaded, which takes far longer."""
    import gguf

    reader = gguf.GGUFReader(base_gguf)
    arch = reader.fields["general.architecture"].contents()
    if arch != "llama":
        raise UsageError(f"only llama-architecture models are exported so far, not {arch}")
    return reader


def write_f16(model, reader, out: Path, profile: str | None) -> int:
    """Write an HF llama model as an F16 GGUF with the metadata (tokenizer, chat template,
    hyper-parameters) and tensor order of the base GGUF `reader` (from `llama_base`); `profile`
    names the prompt profile it answers to. Returns how many tensors it holds."""
    import gguf

    config = model.config
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config.num_hidden_layers)
    by_gguf = {}
    for key, value in model.state_dict().items():
        name = names.get_name(key, try_suffixes=(".weight", ".bias"))
        if name is not None:
            by_gguf[name] = value.detach().float().numpy()
    heads = {"attn_q": config.num_attention_heads,
             "attn_k": getattr(config, "num_key_value_heads", None) or config.num_attention_heads}
    writer = gguf.GGUFWriter(str(out), "llama")
    copy_metadata(reader, writer, skip=("general.file_type", PROFILE_KEY))
    writer.add_file_type(FTYPES["F16"])
    if profile:
        writer.add_string(PROFILE_KEY, profile)
    written = 0
    for tensor in reader.tensors:
        if tensor.name not in by_gguf:
            raise IeclidError(f"the trained model has no weights for the base's tensor {tensor.name}")
        value = by_gguf[tensor.name]
        kind = tensor.name.split(".")[-2]
        if kind in heads:
            value = permute_rows(value, heads[kind])
        writer.add_tensor(tensor.name, value.astype("float16" if value.ndim > 1 else "float32"))
        written += 1
    finish(writer)
    return written


def finish(writer) -> None:
    """Write out a `gguf.GGUFWriter` whose tensors were added in memory: header, metadata, tensors."""
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
