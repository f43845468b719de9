"""The Q8_0 copy a small Q4_1 model runs as on the CPU: made once, nearly the same model, and a
run that cannot write it goes on with the model as it is."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import orjson

from ieclid.backends.cpu_weights import copy_path, cpu_weights, source_note, wants_copy
from ieclid.backends.weight_buffers import weights_off_amx
from ieclid.gguf_info import read_gguf
from ieclid.models import ALIGNED_ADAPTER, embedded_model_path


def test_a_small_q4_1_model_gets_one_q8_0_copy():
    model = embedded_model_path()
    assert wants_copy(model)
    copy = cpu_weights(model)
    assert copy == str(copy_path(model)) and copy != model
    info, source = read_gguf(copy), read_gguf(model)
    assert info.quantization == "Q8_0" and info.parameters == source.parameters
    assert info.metadata["tokenizer.chat_template"] == source.metadata["tokenizer.chat_template"]
    made = os.stat(copy).st_mtime_ns
    assert cpu_weights(model) == copy and os.stat(copy).st_mtime_ns == made  # made once
    assert not wants_copy(copy)  # Q8_0 has fast kernels
    assert not wants_copy(str(ALIGNED_ADAPTER))  # an adapter is not a model


def test_copies_no_run_will_load_again_are_deleted(tmp_path, monkeypatch):
    monkeypatch.setenv("IECLID_HOME", str(tmp_path / "home"))
    first, second = tmp_path / "venv-a" / "model.gguf", tmp_path / "venv-b" / "model.gguf"
    for source in (first, second):
        source.parent.mkdir()
        shutil.copyfile(embedded_model_path(), source)
    old, other = Path(cpu_weights(str(first))), Path(cpu_weights(str(second)))
    assert source_note(old).read_text() == str(first.resolve())
    legacy = old.with_name("SmolLM2.0123456789abcdef.Q8_0.gguf")  # made before copies noted a source
    legacy.write_bytes(b"")

    os.utime(first, ns=(1, 1))  # the model file is replaced: its old copy will not be loaded again
    new = Path(cpu_weights(str(first)))
    assert new != old and new.is_file() and other.is_file()  # the other file's copy is still wanted
    assert not old.exists() and not source_note(old).exists() and not legacy.exists()

    shutil.rmtree(second.parent)  # its virtual environment is removed
    os.utime(first, ns=(2, 2))
    newest = Path(cpu_weights(str(first)))
    assert sorted(newest.parent.iterdir()) == sorted([newest, source_note(newest)])


def test_the_copy_is_nearly_the_same_model():
    import llama_cpp

    model = embedded_model_path()
    text = b"<|im_start|>user\nList the people in: Barack Obama met Angela Merkel in Berlin.<|im_end|>\n"
    logits = []
    for path in (model, cpu_weights(model)):
        with weights_off_amx():
            llm = llama_cpp.Llama(model_path=path, n_ctx=256, n_threads=2, logits_all=True, verbose=False)
        llm.eval(llm.tokenize(text, special=True))
        logits.append(np.array(llm.scores[llm.n_tokens - 1]))
        llm.close()
    a, b = (x - x.mean() for x in logits)
    assert float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) > 0.99
    assert set(np.argsort(logits[0])[-5:]) == set(np.argsort(logits[1])[-5:])


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
    assert orjson.loads(as_is.stdout)["model"] == "SmolLM2-135M-Instruct.Q4_1"


def test_a_home_that_cannot_hold_the_copy_runs_the_model_as_it_is(tmp_path):
    home = tmp_path / "not-a-folder"
    home.write_text("")
    result = run_extract(home=str(home))
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout)["model"] == "SmolLM2-135M-Instruct.Q4_1"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ieclid: running SmolLM2-135M-Instruct.Q4_1.gguf as it is")
