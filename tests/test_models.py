"""`ieclid models`: real pulls over HTTP from a loopback Hub, the registry, GGUF inspection."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import llama_cpp
import orjson
import pytest
from hub_server import Hub, tiny_gguf

from ieclid.assembly import with_bundled_adapter
from ieclid.errors import IeclidError
from ieclid.gguf_info import read_gguf
from ieclid.models import embedded_model_path
from ieclid.settings import RunSettings

ROOT = Path(__file__).resolve().parent.parent
# Run on the CPU, a Q4_1 model runs as its Q8_0 copy, and records say so (ieclid/backends/cpu_weights.py).
COPY = "" if llama_cpp.llama_supports_gpu_offload() else "@Q8_0"
# Larger than the client's 10 MB download chunk, so a cut halfway leaves something to resume from.
BIG = tiny_gguf("big") + bytes(range(256)) * (24 * 4096)


@pytest.fixture()
def hub():
    server = Hub({
        "org/tiny-adelie-GGUF": {
            "tiny-adelie.Q4_K_M.gguf": tiny_gguf(file_type=15),
            "tiny-adelie.Q8_0.gguf": tiny_gguf(file_type=7),
            "README.md": b"# tiny\n",
        },
        "org/broken-GGUF": {"broken.gguf": BIG},
        "org/evil-GGUF": {"../../../evil.gguf": tiny_gguf("evil")},
    })
    yield server
    server.close()


def run(home: Path, hub: Hub | None, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "IECLID_HOME": str(home), "IECLID_DEBUG": "", "HF_HUB_DISABLE_XET": "1"}
    if hub is not None:
        env["HF_ENDPOINT"] = hub.url
    return subprocess.run([sys.executable, "-m", "ieclid", *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)


def one_line_error(result: subprocess.CompletedProcess, code: int, fragment: str) -> None:
    assert result.returncode == code, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.startswith("ieclid:")]
    assert "Traceback" not in result.stderr and len(lines) == 1 and fragment in lines[0], result.stderr


def listed(home: Path, name: str) -> dict:
    """The `models list --json` row of a model."""
    rows = [orjson.loads(line) for line in run(home, None, "models", "list", "--json").stdout.splitlines()]
    return next(row for row in rows if row["name"] == name)


def test_pull_picks_the_quantization_and_info_reads_it(tmp_path, hub):
    pulled = run(tmp_path, hub, "models", "pull", "-q", "org/tiny-adelie-GGUF:q4_k_m")
    assert pulled.returncode == 0, pulled.stderr
    listed = [orjson.loads(line) for line in run(tmp_path, hub, "models", "list", "--json").stdout.splitlines()]
    entry = next(m for m in listed if m["name"] == "org/tiny-adelie-GGUF:Q4_K_M")
    assert entry["source"] == "org/tiny-adelie-GGUF:tiny-adelie.Q4_K_M.gguf" and entry["present"]
    info = orjson.loads(run(tmp_path, hub, "models", "info", "org/tiny-adelie-GGUF:Q4_K_M", "--json").stdout)
    assert (info["architecture"], info["quantization"], info["parameters"], info["context_length"]) == (
        "llama", "Q4_K_M", 32, 2048)
    assert info["profile"] == "adelie" and info["chat_template"] == "{{ messages }}"
    assert "llama-cpp-python" in info["backend"]
    one_line_error(run(tmp_path, hub, "models", "pull", "org/tiny-adelie-GGUF"), 1, "expected one GGUF file")


def test_interrupted_download_resumes_and_checksums_are_checked(tmp_path, hub):
    hub.cut_first.add("broken.gguf")
    first = run(tmp_path, hub, "models", "pull", "-q", "org/broken-GGUF:broken.gguf")
    if first.returncode != 0:  # the client may resume within the same call, or on the next
        one_line_error(first, 1, "cannot pull org/broken-GGUF")
        assert run(tmp_path, hub, "models", "pull", "-q", "org/broken-GGUF:broken.gguf").returncode == 0
    assert any(r.startswith("bytes=") and r != "bytes=0-" for r in hub.ranges), hub.ranges
    path = listed(tmp_path, "org/broken-GGUF:broken.gguf")["path"]
    assert hashlib.sha256(Path(path).read_bytes()).digest() == hashlib.sha256(BIG).digest()

    other = tmp_path / "other"
    hub.bad_checksum.add("tiny-adelie.Q8_0.gguf")
    one_line_error(run(other, hub, "models", "pull", "-q", "org/tiny-adelie-GGUF:Q8_0"), 1, "checksum mismatch")
    assert "tiny-adelie" not in run(other, hub, "models", "list").stdout
    one_line_error(run(other, hub, "models", "pull", "-q", "org/missing-GGUF"), 1, "cannot pull org/missing-GGUF")
    one_line_error(run(other, hub, "models", "pull", "adelie-dpo-3b:Q2_K"), 2, "comes in Q6_K, Q5_K_M")


def test_a_file_name_that_leaves_the_download_folder_is_refused(tmp_path, hub):
    one_line_error(run(tmp_path, hub, "models", "pull", "-q", "org/evil-GGUF"), 1, "found none")
    one_line_error(run(tmp_path, hub, "models", "pull", "-q", "org/evil-GGUF:../../../evil.gguf"), 1,
                   "leaves the download folder")
    assert not list(tmp_path.parent.rglob("evil.gguf"))


def test_pulled_model_extracts_then_default_and_rm(tmp_path):
    """The embedded GGUF served by the loopback Hub: pulled, used by name, made default, removed."""
    server = Hub({"HuggingFaceTB/SmolLM2-GGUF": {"smol.Q4_1.gguf": Path(embedded_model_path()).read_bytes()}})
    try:
        assert run(tmp_path, server, "models", "pull", "-q", "HuggingFaceTB/SmolLM2-GGUF").returncode == 0
    finally:
        server.close()
    name = "HuggingFaceTB/SmolLM2-GGUF"
    out = run(tmp_path, None, "extract", "--model", name, "--quiet", "-", stdin="Angela Merkel visited Paris.\n")
    assert out.returncode == 0, out.stderr
    assert orjson.loads(out.stdout)["model"] == "smol.Q4_1" + COPY
    assert run(tmp_path, None, "models", "default", name).returncode == 0
    assert run(tmp_path, None, "models", "default").stdout.strip() == name
    out = run(tmp_path, None, "extract", "--quiet", "-", stdin="Angela Merkel visited Paris.\n")
    assert orjson.loads(out.stdout)["model"] == "smol.Q4_1" + COPY
    path = Path(listed(tmp_path, name)["path"])
    assert len(list((tmp_path / "cpu-weights").glob("*.gguf"))) == 1  # run as its CPU copy
    assert run(tmp_path, None, "models", "rm", name).returncode == 0
    assert not list((tmp_path / "cpu-weights").iterdir())  # its CPU copy goes with it
    assert not path.exists() and run(tmp_path, None, "models", "default").stdout.strip() == "smollm2-ie"
    one_line_error(run(tmp_path, None, "extract", "--model", name, "-", stdin="x\n"), 2, "is not pulled yet")
    one_line_error(run(tmp_path, None, "models", "rm", name), 2, "no pulled or added model")


def test_default_is_the_ie_adapter_on_the_embedded_model_and_smollm2_the_plain_base(tmp_path):
    rows = [orjson.loads(line) for line in run(tmp_path, None, "models", "list", "--json").stdout.splitlines()]
    assert [(r["name"], r["default"], r["present"]) for r in rows] == [("smollm2-ie", True, True),
                                                                        ("smollm2", False, True)]
    info = orjson.loads(run(tmp_path, None, "models", "info", "--json").stdout)
    assert Path(info["adapter"]).name == "smollm2-ie.gguf" and info["profile"] == "adelie"
    assert read_gguf(info["adapter"]).is_adapter
    text = "Angela Merkel met Emmanuel Macron in Paris on Tuesday.\n"

    def extract(*args: str) -> dict:
        out = run(tmp_path, None, "extract", "--quiet", *args, "-", stdin=text)
        assert out.returncode == 0, out.stderr
        return orjson.loads(out.stdout)

    aligned = extract()
    # on the CPU the adapter is merged into the Q8_0 copy
    assert (aligned["model"], aligned["profile"]) == (f"SmolLM2-135M-Instruct.Q4_1+smollm2-ie{COPY}", "adelie")
    found = {(e["text"], e["label"], e["status"]) for e in aligned["entities"]}
    assert found == {("Angela Merkel", "person", "exact"), ("Emmanuel Macron", "person", "exact"),
                     ("Paris", "location", "exact")}
    plain = extract("--model", "smollm2")
    assert (plain["model"], plain["profile"]) == ("SmolLM2-135M-Instruct.Q4_1" + COPY, "chat-json")
    # zero-shot, the general chat model's mentions are held to spans of the text by default
    assert plain["entities"] and all(e["status"] == "exact" for e in plain["entities"])
    assert run(tmp_path, None, "models", "default", "smollm2").returncode == 0
    assert extract()["model"] == "SmolLM2-135M-Instruct.Q4_1" + COPY
    assert run(tmp_path, None, "models", "default", "smollm2-ie").returncode == 0
    assert run(tmp_path, None, "models", "default").stdout.strip() == "smollm2-ie"
    one_line_error(run(tmp_path, None, "models", "add", "smollm2-ie", embedded_model_path()), 2,
                   "choose another name")


def test_a_missing_bundled_adapter_is_a_clear_error(tmp_path, monkeypatch):
    import ieclid.models

    monkeypatch.setattr(ieclid.models, "ALIGNED_ADAPTER", tmp_path / "gone.gguf")
    with pytest.raises(IeclidError, match="IE adapter is missing"):
        ieclid.models.bundled_adapter(None)
    assert ieclid.models.bundled_adapter("smollm2") is None
    # an explicit adapter replaces the bundled one, and a server loads its own
    assert with_bundled_adapter(RunSettings(lora="mine.gguf")).lora == "mine.gguf"
    assert with_bundled_adapter(RunSettings(backend="openai")).lora is None


def test_add_local_file_and_read_gguf_errors(tmp_path):
    assert run(tmp_path, None, "models", "add", "mine", embedded_model_path()).returncode == 0
    info = orjson.loads(run(tmp_path, None, "models", "info", "mine", "--json").stdout)
    assert (info["quantization"], info["architecture"], info["profile"]) == ("Q4_1", "llama", "chat-json")
    assert 134e6 < info["parameters"] < 135e6
    assert run(tmp_path, None, "models", "rm", "mine").returncode == 0
    assert Path(embedded_model_path()).is_file()  # an added file is never deleted
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(tiny_gguf()[:40])
    one_line_error(run(tmp_path, None, "models", "add", "cut", str(truncated)), 1, "damaged GGUF header")
    one_line_error(run(tmp_path, None, "models", "add", "x", str(ROOT / "README.md")), 1, "is not a GGUF model file")
    with pytest.raises(IeclidError, match="model file not found"):
        read_gguf(tmp_path / "none.gguf")
