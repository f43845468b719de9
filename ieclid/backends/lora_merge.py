"""A LoRA adapter folded into its base model's weights: W + (alpha / r) · B · A, tensor by tensor.

Applied at run time, llama.cpp computes the adapter's two thin products beside every adapted
matrix product, at every step; folded into the weights, the adapter costs nothing per token.
The merge is computed in 32-bit floats from the dequantized base and written as an F32 tensor,
so the only rounding is the quantization that follows (`cpu_weights` makes the Q8_0 copy of the
result). Adapters are in llama.cpp's own tensor layout (q/k rows already permuted), so the sum
is taken as stored. An adapter that does not fit the base, or of a kind whose effect is not a
sum of weights (activated LoRA, embedding adapters), raises `NotMergeable`, and the caller
applies it at run time as before.
"""

from __future__ import annotations

from pathlib import Path

from ieclid.errors import IeclidError

_SUFFIXES = (".lora_a", ".lora_b")


class NotMergeable(IeclidError):
    """The adapter cannot be folded into this base; it is applied at run time instead."""


def copy_metadata(reader, writer, skip: tuple[str, ...] = ()) -> None:
    """Every key of a GGUF's header into a writer, except GGUF's own and those named in `skip`."""
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture" or key in skip:
            continue
        sub = field.types[1] if len(field.types) > 1 else None
        writer.add_key_value(key, field.contents(), field.types[0], sub)


def _pairs(adapter) -> dict[str, tuple]:
    """Base tensor name -> (lora_a, lora_b) of a LoRA adapter, checked for a kind that merges."""
    fields = adapter.fields
    kind = fields.get("adapter.type")
    if kind is None or kind.contents() != "lora":
        raise NotMergeable("not a LoRA adapter")
    if any(key.startswith("adapter.alora") for key in fields):
        raise NotMergeable("an activated LoRA works only after its invocation tokens")
    halves: dict[str, dict[str, object]] = {}
    for tensor in adapter.tensors:
        name, dot, half = tensor.name.rpartition(".")
        if not dot or "." + half not in _SUFFIXES:
            raise NotMergeable(f"unexpected adapter tensor {tensor.name}")
        halves.setdefault(name, {})[half] = tensor
    if any(name.startswith("token_embd") for name in halves):
        raise NotMergeable("an adapter on the token embeddings is added after the lookup")
    pairs = {}
    for name, got in halves.items():
        if set(got) != {"lora_a", "lora_b"}:
            raise NotMergeable(f"{name} has only half of its LoRA pair")
        pairs[name] = (got["lora_a"], got["lora_b"])
    return pairs


def merge_lora(base: Path, adapter: Path, out: Path) -> int:
    """Write `out`: the base's header and tensors, each adapted one as its merged F32 values, the
    others as they are. Returns how many tensors were merged. One tensor is in memory at a time."""
    import gguf
    import numpy as np
    from gguf.quants import dequantize

    base_reader, adapter_reader = gguf.GGUFReader(base), gguf.GGUFReader(adapter)
    arch = base_reader.fields["general.architecture"].contents()
    adapter_arch = adapter_reader.fields.get("general.architecture")
    if adapter_arch is not None and adapter_arch.contents() != arch:
        raise NotMergeable(f"the adapter is for {adapter_arch.contents()}, the model is {arch}")
    pairs = _pairs(adapter_reader)
    alpha_field = adapter_reader.fields.get("adapter.lora.alpha")
    alpha = float(alpha_field.contents()) if alpha_field is not None else 0.0
    shapes = {t.name: tuple(int(n) for n in reversed(t.shape)) for t in base_reader.tensors}
    missing = sorted(set(pairs) - set(shapes))
    if missing:
        raise NotMergeable(f"the model has no tensor {missing[0]}")
    for name, (a, b) in pairs.items():
        rows, cols = shapes[name]
        if len(shapes[name]) != 2 or int(a.shape[0]) != cols or int(b.shape[1]) != rows \
                or int(a.shape[1]) != int(b.shape[0]):
            raise NotMergeable(f"the adapter's {name} does not fit the model's")

    writer = gguf.GGUFWriter(str(out), arch)
    copy_metadata(base_reader, writer)
    for tensor in base_reader.tensors:
        if tensor.name in pairs:
            writer.add_tensor_info(tensor.name, shapes[tensor.name], np.dtype(np.float32),
                                   tensor.n_elements * 4)
        else:
            writer.add_tensor_info(tensor.name, tensor.data.shape, tensor.data.dtype, tensor.n_bytes,
                                   raw_dtype=tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for tensor in base_reader.tensors:
        if tensor.name not in pairs:
            writer.write_tensor_data(tensor.data)
            continue
        a, b = pairs[tensor.name]
        lora_a = dequantize(a.data, a.tensor_type).reshape(int(a.shape[1]), int(a.shape[0]))
        lora_b = dequantize(b.data, b.tensor_type).reshape(int(b.shape[1]), int(b.shape[0]))
        rank = lora_a.shape[0]  # llama.cpp: scale = alpha / rank, or 1 without alpha
        weight = np.array(dequantize(tensor.data, tensor.tensor_type), np.float32)  # a copy to add to
        weight = weight.reshape(shapes[tensor.name])
        weight += (alpha / rank if alpha else 1.0) * (lora_b @ lora_a)
        writer.write_tensor_data(np.ascontiguousarray(weight, dtype=np.float32))
    writer.close()
    return len(pairs)
