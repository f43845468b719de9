"""The type the KV cache keeps attention keys in (`--cache-type-k`): auto is Q8_0 on the CPU where
each head's keys fill whole blocks, F16 elsewhere."""

import subprocess
import sys

import llama_cpp as lc
import pytest

from ieclid.assembly import open_extractor
from ieclid.backends import key_cache
from ieclid.backends.key_cache import key_type
from ieclid.errors import UsageError
from ieclid.gguf_info import GgufInfo
from ieclid.models import embedded_model_path
from ieclid.settings import RunSettings


def info(**metadata) -> GgufInfo:
    return GgufInfo("model.gguf", 3, {"general.architecture": "llama", **metadata})


def test_head_size_is_read_as_llama_cpp_reads_it():
    assert info(**{"llama.embedding_length": 576, "llama.attention.head_count": 9}).key_length == 64
    given = {"llama.embedding_length": 2560, "llama.attention.head_count": 32}  # Qwen3-4B: 128, not 80
    assert info(**given, **{"llama.attention.key_length": 128,
                            "llama.attention.value_length": 128}).key_length == 128
    assert info(**given, **{"llama.attention.key_length": 128}).key_length is None  # values of 80
    assert info(**{"llama.attention.key_length": 192, "llama.attention.value_length": 128}).key_length is None
    assert info(**{"llama.embedding_length": 576, "llama.attention.head_count": [9, 9]}).key_length is None
    assert info().key_length is None


def test_auto_is_q8_0_on_the_cpu_where_heads_fill_whole_blocks(monkeypatch):
    model = embedded_model_path()  # heads of 64
    assert key_type(lc, "auto", model, cpu=True) == lc.GGML_TYPE_Q8_0
    assert key_type(lc, "auto", model, cpu=False) == lc.GGML_TYPE_F16  # not measured on a GPU
    assert key_type(lc, "f16", model, cpu=True) == lc.GGML_TYPE_F16
    assert key_type(lc, "q8_0", model, cpu=False) == lc.GGML_TYPE_Q8_0
    for heads, expected in ((32, lc.GGML_TYPE_F16), (20, lc.GGML_TYPE_Q8_0)):  # heads of 80, 128
        header = info(**{"llama.embedding_length": 2560, "llama.attention.head_count": heads})
        monkeypatch.setattr(key_cache, "read_gguf", lambda path, header=header: header)
        assert key_type(lc, "auto", "model.gguf", cpu=True) == expected
    monkeypatch.setattr(key_cache, "read_gguf", lambda path: info(**{
        "llama.embedding_length": 2560, "llama.attention.head_count": 32}))
    with pytest.raises(UsageError, match="multiple of 32 wide; this model's are 80"):
        key_type(lc, "q8_0", "model.gguf", cpu=True)  # llama.cpp would abort on it


def engine_key_types(choice: str) -> set[int]:
    """The key types in the batch engine's cache, read from llama.cpp's own saved state."""
    settings = RunSettings(task="ner", model="smollm2", threads=2, sequences=2, n_gpu_layers=0,
                           cache_type_k=choice)
    _extractor, backend = open_extractor(settings)
    try:
        engine = backend._engine
        engine.complete(backend.tokenize_prompt("Hi"), None, 2, 0.0)  # the engine thread lays out its cache
        return {k_type for k_type, _size in engine.cells.blob.k_rows}
    finally:
        backend.close()


def test_the_batch_engine_keeps_the_keys_in_the_type_asked_for():
    assert engine_key_types("auto") == {lc.GGML_TYPE_Q8_0}
    assert engine_key_types("f16") == {lc.GGML_TYPE_F16}


def test_an_unknown_type_is_a_one_line_usage_error(tmp_path):
    text = tmp_path / "a.txt"
    text.write_text("Paris is in France.\n")
    result = subprocess.run([sys.executable, "-m", "ieclid", "extract", "--cache-type-k", "q4_0", str(text)],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "--cache-type-k" in result.stderr and "Traceback" not in result.stderr
