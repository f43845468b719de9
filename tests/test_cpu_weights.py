"""The Q8_0 copy a small Q4_1 model runs as on the CPU: made once, nearly the same model, with the
run's adapter merged into it where it fits, and a run that cannot write it goes on with the
model as it is."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import orjson
import pytest

from ieclid.backends.cpu_weights import copy_path, cpu_weights, drop_copies, source_note, wants_copy
from ieclid.backends.lora_merge import NotMergeable, merge_lora
from ieclid.backends.weight_buffers import weights_off_amx
from ieclid.gguf_info import read_gguf
from ieclid.models import ALIGNED_ADAPTER, embedded_model_path


def test_a_small_q4_1_model_gets_one_q8_0_copy():
    model = embedded_model_path()
    assert wants_copy(model)
    copy, lora = cpu_weights(model)
    assert copy == str(copy_path(model)) and copy != model and lora is None
    info, source = read_gguf(copy), read_gguf(model)
    assert info.quantization == "Q8_0" and info.parameters == source.parameters
    assert info.metadata["tokenizer.chat_template"] == source.metadata["tokenizer.chat_template"]
    made = os.stat(copy).st_mtime_ns
    assert cpu_weights(model) == (copy, None) and os.stat(copy).st_mtime_ns == made  # made once
    assert not wants_copy(copy)  # Q8_0 has fast kernels
    assert not wants_copy(str(ALIGNED_ADAPTER))  # an adapter is not a model


def test_copies_no_run_will_load_again_are_deleted(tmp_path, monkeypatch):
    monkeypatch.setenv("IECLID_HOME", str(tmp_path / "home"))
    first, second = tmp_path / "venv-a" / "model.gguf", tmp_path / "venv-b" / "model.gguf"
    for source in (first, second):
        source.parent.mkdir()
        shutil.copyfile(embedded_model_path(), source)
    old, other = (Path(cpu_weights(str(source))[0]) for source in (first, second))
    assert source_note(old).read_text() == str(first.resolve())
    legacy = old.with_name("SmolLM2.0123456789abcdef.Q8_0.gguf")  # made before copies noted a source
    legacy.write_bytes(b"")

    os.utime(first, ns=(1, 1))  # the model file is replaced: its old copy will not be loaded again
    new = Path(cpu_weights(str(first))[0])
    assert new != old and new.is_file() and other.is_file()  # the other file's copy is still wanted
    assert not old.exists() and not source_note(old).exists() and not legacy.exists()

    shutil.rmtree(second.parent)  # its virtual environment is removed
    os.utime(first, ns=(2, 2))
    newest = Path(cpu_weights(str(first))[0])
    assert sorted(newest.parent.iterdir()) == sorted([newest, source_note(newest)])


def test_the_copy_is_nearly_the_same_model():
    model = embedded_model_path()
    a, b = (next_token_logits(path)[-1] for path in (model, cpu_weights(model)[0]))
    assert float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) > 0.99
    assert set(np.argsort(a)[-5:]) == set(np.argsort(b)[-5:])


def run_extract(*args: str, home: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ieclid", "extract", "--model", "smollm2", "--threads", "2", "--n-gpu-layers", "0", *args, "-"],
        input="Angela Merkel visited Paris.\n", capture_output=True, text=True,
        env={**os.environ, "IECLID_HOME": home},
    )


def test_records_say_which_weights_ran(tmp_path):
    copied = run_extract(home=str(tmp_path))
    as_is = run_extract("--no-cpu-copy", home=str(tmp_path))
    assert copied.returncode == as_is.returncode == 0, copied.stderr + as_is.stderr
    assert orjson.loads(copied.stdout)["model"] == "SmolLM2-135M-Instruct.Q4_1@Q8_0"
    merged = run_extract("--model", "smollm2-ie", home=str(tmp_path))  # the default: adapter merged, then Q8_0
    at_run_time = run_extract("--model", "smollm2-ie", "--no-cpu-copy", home=str(tmp_path))
    assert orjson.loads(merged.stdout)["model"] == "SmolLM2-135M-Instruct.Q4_1+smollm2-ie@Q8_0"
    assert orjson.loads(at_run_time.stdout)["model"] == "SmolLM2-135M-Instruct.Q4_1+smollm2-ie"
    assert orjson.loads(as_is.stdout)["model"] == "SmolLM2-135M-Instruct.Q4_1"


def test_a_home_that_cannot_hold_the_copy_runs_the_model_as_it_is(tmp_path):
    home = tmp_path / "not-a-folder"
    home.write_text("")
    result = run_extract(home=str(home))
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout)["model"] == "SmolLM2-135M-Instruct.Q4_1"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ieclid: running SmolLM2-135M-Instruct.Q4_1.gguf as it is")


def next_token_logits(path: str, lora: str | None = None) -> list:
    import llama_cpp

    text = b"<|im_start|>user\nList the people in: Barack Obama met Angela Merkel in Berlin.<|im_end|>\n"
    with weights_off_amx():
        llm = llama_cpp.Llama(model_path=path, lora_path=lora, n_ctx=256, n_threads=2, logits_all=True,
                              verbose=False)
    tokens = llm.tokenize(text, special=True)
    llm.eval(tokens)
    logits = np.array(llm.scores[: len(tokens)])
    llm.close()
    return logits - logits.mean(1, keepdims=True)


def test_the_adapter_is_merged_into_the_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("IECLID_HOME", str(tmp_path / "home"))
    model, adapter = tmp_path / "model.gguf", tmp_path / "adapter.gguf"
    shutil.copyfile(embedded_model_path(), model)
    shutil.copyfile(ALIGNED_ADAPTER, adapter)
    merged, left = cpu_weights(str(model), lora=str(adapter))
    assert left is None and merged == str(copy_path(str(model), str(adapter)))
    assert source_note(Path(merged)).read_text().splitlines() == [str(model), str(adapter)]
    plain, applied = cpu_weights(str(model), lora=None)
    assert applied is None and Path(plain).is_file() and plain != merged  # both kept: both are wanted
    made = os.stat(merged).st_mtime_ns
    assert cpu_weights(str(model), lora=str(adapter))[0] == merged and os.stat(merged).st_mtime_ns == made

    # the merged copy predicts what the copy with the adapter applied at run time predicts
    at_run_time, folded = next_token_logits(plain, str(adapter)), next_token_logits(merged)
    cosine = (at_run_time * folded).sum(1) / np.linalg.norm(at_run_time, axis=1) / np.linalg.norm(folded, axis=1)
    assert cosine.mean() > 0.99
    assert (at_run_time.argmax(1) == folded.argmax(1)).mean() > 0.8  # early in a prompt the top two are close
    without = next_token_logits(plain)  # and the adapter does change them
    assert ((at_run_time * without).sum(1) / np.linalg.norm(at_run_time, axis=1)
            / np.linalg.norm(without, axis=1)).mean() < 0.97

    os.utime(adapter, ns=(1, 1))  # a new adapter: a new merged copy, the old one deleted
    remade, _ = cpu_weights(str(model), lora=str(adapter))
    assert remade != merged and not Path(merged).exists() and Path(plain).is_file()
    drop_copies(adapter.resolve())  # the adapter is deleted: so is its merged copy, not the plain one
    assert not Path(remade).exists() and Path(plain).is_file()


def test_an_adapter_that_does_not_fit_is_applied_at_run_time(tmp_path, monkeypatch):
    import gguf

    monkeypatch.setenv("IECLID_HOME", str(tmp_path / "home"))
    adapter = tmp_path / "other.gguf"
    writer = gguf.GGUFWriter(str(adapter), "llama")
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", 16.0)
    writer.add_tensor("blk.0.attn_q.weight.lora_a", np.zeros((8, 100), np.float32))  # 100 inputs: wrong
    writer.add_tensor("blk.0.attn_q.weight.lora_b", np.zeros((576, 8), np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    model = embedded_model_path()
    with pytest.raises(NotMergeable, match="does not fit"):
        merge_lora(Path(model), adapter, tmp_path / "merged.gguf")
    assert not (tmp_path / "merged.gguf").exists()
    assert cpu_weights(model, lora=str(adapter)) == (str(copy_path(model)), str(adapter))
    assert sorted(p.name for p in (tmp_path / "home" / "cpu-weights").iterdir()) == sorted(
        [copy_path(model).name, source_note(copy_path(model)).name])  # no temporary left behind
