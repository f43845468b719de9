"""A trained model (LoRA merged in, or fully fine-tuned) as a quantized GGUF that `ieclid extract
--model` loads on its own.

The base GGUF the run started from supplies everything but the weights: its metadata (tokenizer,
chat template, hyper-parameters) is copied as is, so the export tokenizes exactly as the base
did. The weights come from the trained HF model, written at 16 bits in the base's tensor order
(q/k rows permuted into llama.cpp's rotary layout) and then quantized by llama.cpp's own
quantizer. This path needs no converter script, whose tokenizer rebuild is where exports
usually go wrong.
"""

from __future__ import annotations

from pathlib import Path

from ieclid.backends.quantizer import quantize
from ieclid.backends.weight_buffers import weights_off_amx
from ieclid.errors import IeclidError, UsageError
from ieclid.gguf_info import read_gguf
from ieclid.training.export import PROBES, load_tuned
from ieclid.training.gguf_weights import llama_base, write_f16

# The types llama.cpp's quantizer makes without an importance matrix, in `llama_ftype` order.
QUANTS = ("F16", "Q4_0", "Q4_1", "Q8_0", "Q5_0", "Q5_1", "Q3_K_M", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M",
          "Q6_K")
# Below this, llama.cpp's next-token distribution differs from the trained model's more than
# quantization explains (measured on the embedded model: 0.99+ for Q8_0, 0.97+ for Q4_1).
MIN_COSINE = 0.9


def base_quant(base_gguf: str) -> str:
    """The quantization of the base GGUF, the export's default (a drop-in of the same size)."""
    quant = read_gguf(base_gguf).quantization
    return quant if quant in QUANTS else "Q8_0"


def tuned_model(run: Path, adapter: Path | None):
    """The run's trained model: a LoRA adapter (RUN/final, or a blend of it) merged into RUN/base,
    or, for a full run (no adapter), the fully tuned RUN/final."""
    return load_tuned(run / "base", adapter) if adapter else load_tuned(run / "final")


def write_merged(run: Path, base_gguf: str, out: Path, quant: str, adapter: Path | None) -> dict:
    """Write the quantized GGUF; returns its size and tensor count."""
    if quant not in QUANTS:
        raise UsageError(f"unknown quantization {quant!r}; choose from: {', '.join(QUANTS)}")
    reader = llama_base(base_gguf)
    model = tuned_model(run, adapter)
    out.parent.mkdir(parents=True, exist_ok=True)
    f16 = out.with_name(out.name + ".f16.tmp")
    try:  # trained on `ieclid train data`, so it answers to ADELIE's wording
        written = write_f16(model, reader, f16, "adelie")
        quantize(f16, out, quant)
    finally:
        f16.unlink(missing_ok=True)
    return {"tensors": written, "bytes": out.stat().st_size, "quant": quant}


def verify_merged(run: Path, adapter: Path | None, exported: Path) -> dict:
    """llama.cpp's next-token distributions on the probes against the trained HF model's: the mean
    cosine of the centred logits, and how often both predict the same token."""
    import llama_cpp
    import numpy as np
    import torch
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(run / "base")
    model = tuned_model(run, adapter)
    with weights_off_amx():
        llm = llama_cpp.Llama(model_path=str(exported), n_ctx=512, logits_all=True, verbose=False)
    cosines, agree, total = [], 0, 0
    try:
        for text in PROBES:
            tokens = llm.tokenize(text.encode(), add_bos=False, special=False)
            if tokens != tokenizer(text, add_special_tokens=False)["input_ids"]:
                raise IeclidError(f"tokenizers disagree on the probe {text!r}")
            with torch.no_grad():
                hf = model(torch.tensor([tokens])).logits[0].numpy()
            llm.reset()
            llm.eval(tokens)
            cpp = np.array(llm.scores[: len(tokens)])
            for a, b in zip(hf - hf.mean(1, keepdims=True), cpp - cpp.mean(1, keepdims=True), strict=True):
                cosines.append(float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12)))
            agree += int((hf.argmax(1) == cpp.argmax(1)).sum())
            total += len(tokens)
    finally:
        llm.close()
    result = {"logit_cosine": round(float(np.mean(cosines)), 4), "top1_agreement": round(agree / total, 3)}
    if result["logit_cosine"] < MIN_COSINE:
        raise IeclidError(f"the exported GGUF disagrees with the trained model ({result})")
    return result


def probe_extraction(model: Path, lora: Path | None = None) -> dict:
    """One NER extraction with the exported model through ieclid's own pipeline: the export is
    loadable and answers in a form ieclid parses."""
    from ieclid.assembly import open_extractor
    from ieclid.documents import Document
    from ieclid.settings import RunSettings

    settings = RunSettings(task="ner", schema="conll2003", model=str(model), profile="adelie",
                           lora=str(lora) if lora else None, ctx=1024)
    extractor, backend = open_extractor(settings)
    try:
        record = extractor.extract(Document("probe", PROBES[0]))
    finally:
        backend.close()
    if "error" in record:
        raise IeclidError(f"the exported model failed a probe extraction: {record['error']}")
    return record
