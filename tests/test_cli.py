"""The CLI as a user meets it: subprocesses, exit codes, one-line errors, whole records."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parent.parent


def ieclid(*args: str, stdin: str | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ieclid", *args],
        input=stdin, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
        env={**os.environ, "IECLID_DEBUG": ""},
    )


def assert_one_line_error(result: subprocess.CompletedProcess, code: int, fragment: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ieclid: error:") and fragment in lines[0], lines


def records(stdout: str) -> list[dict]:
    return [orjson.loads(line) for line in stdout.splitlines()]


@pytest.fixture()
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "note.txt"
    path.write_text("Angela Merkel met Emmanuel Macron in Paris on Monday.\n")
    return path


def test_help_and_version():
    assert "extract" in ieclid("--help").stdout
    assert "--max-chunk-tokens" in ieclid("extract", "--help").stdout
    assert ieclid("--version").stdout.startswith("ieclid ")


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["extract", "missing.txt"], 2, "input not found: missing.txt"),
        (["extract", "--schema", "nope", "{sample}"], 2, "unknown schema 'nope'"),
        (["extract", "--schema", "{bad_schema}", "{sample}"], 2, "invalid YAML"),
        (["extract", "--labels", "a", "--schema", "wnut17", "{sample}"], 2, "either --labels or --schema"),
        (["extract", "--task", "rc", "--schema", "wnut17", "{sample}"], 2, "no relation labels"),
        (["extract", "--model", "{tmp}/none.gguf", "{sample}"], 2, "model file not found"),
        (["extract", "--model", "{sample}", "{sample}"], 1, "is not a GGUF model file"),
        (["extract", "--model", "{corrupt}", "{sample}"], 1, "corrupt.gguf"),  # damaged header
        (["extract", "--demos", "{tmp}/none.conll", "{sample}"], 2, "demonstration file not found"),
        (["extract", "--task", "xx", "{sample}"], 2, "Invalid value for '--task'"),
        (["extract", "--bogus", "{sample}"], 2, "No such option '--bogus'"),
        (["extract", "--method", "qa4re", "{sample}"], 2, "--method qa4re is for --task rc"),
        (["extract", "-o", "{tmp}/no/such/dir/out.jsonl", "{sample}"], 2, "cannot write output file"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code(tmp_path, sample, args, code, fragment):
    bad_schema = tmp_path / "bad.yaml"
    bad_schema.write_text("entities: [unclosed\n")
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + os.urandom(4096))
    fill = {"sample": str(sample), "bad_schema": str(bad_schema), "tmp": str(tmp_path), "corrupt": str(corrupt)}
    result = ieclid(*[a.format(**fill) for a in args])
    assert_one_line_error(result, code, fragment)
    assert result.stdout == ""


def test_batch_goes_on_past_bad_documents_and_exits_non_zero(tmp_path):
    good = tmp_path / "a.txt"
    good.write_text("Barack Obama visited Microsoft in Redmond.")
    (tmp_path / "b.txt").write_bytes(b"\x00\x01binary")
    (tmp_path / "c.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "d.txt").write_text("")
    result = ieclid("extract", "--labels", "person,organization,location", str(tmp_path))
    assert result.returncode == 1
    out = {Path(r["id"]).name: r for r in records(result.stdout)}
    assert list(out) == ["a.txt", "b.txt", "c.txt", "d.txt"]
    assert "binary" in out["b.txt"]["error"] and "UTF-8" in out["c.txt"]["error"]
    assert out["d.txt"]["error"] == f"{tmp_path / 'd.txt'}: empty, no text to extract from"
    text = out["a.txt"]["text"]
    for entity in out["a.txt"]["entities"]:
        assert text[entity["start"] : entity["end"]] == entity["text"]
    assert "3 of 4 documents failed" in result.stderr


def test_stdin_and_output_file(tmp_path):
    out = tmp_path / "out.jsonl"
    result = ieclid("extract", "-q", "-o", str(out), "-", stdin="Paris is lovely in spring.")
    assert result.returncode == 0, result.stderr
    (record,) = records(out.read_text())
    assert record["id"] == "stdin" and record["task"] == "ner" and record["schema"] == "conll2003"
    assert set(record) >= {"id", "task", "model", "text", "entities", "warnings", "usage"}


def test_an_output_file_never_eats_an_input_or_an_earlier_result(tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("Paris is lovely in spring.\n")
    assert_one_line_error(ieclid("extract", "-o", str(note), str(note)), 2, "is also an input")
    assert_one_line_error(ieclid("extract", "-o", str(tmp_path / "." / "note.txt"), str(tmp_path)), 2,
                          "is also an input")
    assert note.read_text() == "Paris is lovely in spring.\n"
    earlier = tmp_path / "out.jsonl"
    earlier.write_text("results of yesterday\n")
    assert_one_line_error(ieclid("extract", "-o", str(earlier), str(note)), 2, "give --overwrite")
    assert earlier.read_text() == "results of yesterday\n"
    assert ieclid("extract", "-q", "--overwrite", "-o", str(earlier), str(note)).returncode == 0
    (record,) = records(earlier.read_text())
    assert record["id"] == str(note) and not list(tmp_path.glob(".*part"))


@pytest.mark.parametrize(("sent", "code", "said"), [(signal.SIGINT, 130, b"interrupted"),
                                                   (signal.SIGTERM, 143, b"terminated")])
def test_ctrl_c_keeps_the_whole_records_written_to_an_output_file(tmp_path, sent, code, said):
    """The work in flight (32 documents by default) is given up, not finished first."""
    path = tmp_path / "many.txt"
    path.write_text("\n".join(f"Sentence {i} mentions Berlin and Anna Schmidt." for i in range(200)))
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ieclid", "extract", "--lines", "-q", "-o", str(out), str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, preexec_fn=as_at_a_terminal,
    )
    deadline = time.monotonic() + 120
    while not any(p.stat().st_size for p in tmp_path.glob(".out.jsonl.*.part")) and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(sent)
    sent_at = time.monotonic()
    _, err = proc.communicate(timeout=60)
    took = time.monotonic() - sent_at
    assert proc.returncode == code and said in err and b"Traceback" not in err, err[-2000:]
    assert took < 10, f"exit took {took:.1f} s"  # about 0.1 s; finishing what was in flight took a minute
    lines = out.read_bytes().splitlines()
    assert 1 <= len(lines) < 200 and all(orjson.loads(line)["entities"] is not None for line in lines)
    assert not list(tmp_path.glob(".*part"))


def test_rc_from_lines_with_markers(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_text(
        "The <e1>author</e1> of a keygen uses a <e2>disassembler</e2> to look at the code.\n"
        "A sentence without markers.\n"
    )
    result = ieclid("extract", "--task", "rc", "--lines", str(path))
    assert result.returncode == 1
    first, second = records(result.stdout)
    assert first["id"].endswith(":1") and first["text"].startswith("The author of a keygen")
    assert [e["text"] for e in first["entities"]] == ["author", "disassembler"]
    assert "missing e1 and e2" in second["error"]


def as_at_a_terminal() -> None:
    """Ctrl-C handled as at a terminal: a job started in the background by a non-interactive
    shell (as some CI runners do) inherits SIGINT ignored, and Python then never raises it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_leaves_only_whole_records(tmp_path):
    path = tmp_path / "many.txt"
    path.write_text("\n".join(f"Sentence {i} mentions Berlin and Anna Schmidt." for i in range(200)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ieclid", "extract", "--lines", "-q", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, preexec_fn=as_at_a_terminal,
    )
    first = proc.stdout.readline()
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and b"interrupted" in err and b"Traceback" not in err, err[-2000:]
    lines = (first + rest).splitlines()
    assert 1 <= len(lines) < 200
    for line in lines:
        orjson.loads(line)  # every line is a whole record


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_ctrl_c_swallowed_by_a_finalizer_still_stops_the_run():
    from ieclid.run import extract_each

    class Finalizer:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)  # the KeyboardInterrupt raised here is dropped

    def documents():
        for number in range(100):
            if number == 10:
                Finalizer()
            yield number

    def slow(number):
        time.sleep(0.02)
        return number

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # see as_at_a_terminal
    try:
        with pytest.raises(KeyboardInterrupt):
            for _ in extract_each(slow, documents(), in_flight=2):
                pass
    finally:
        signal.signal(signal.SIGINT, previous)


def test_completion_scripts_are_current():
    generator = ROOT / "completions" / "generate.py"
    sys.path.insert(0, str(generator.parent))
    try:
        import generate
    finally:
        sys.path.pop(0)
    for shell, name in generate.SHELLS.items():
        assert (ROOT / "completions" / name).read_text() == generate.script(shell), name


def test_settings_come_from_the_options_by_name():
    from ieclid.cli.options import BackendName, CacheTypeK, Task
    from ieclid.settings import RunSettings

    settings = RunSettings.from_options({
        "task": Task.re, "parallel": 3, "base_url": None, "backend_name": BackendName.llama_cpp,
        "cache_type_k": CacheTypeK.q8_0, "profile": None, "inputs": ["x"], "quiet": True, "ctx": 1024,
    })
    assert (settings.task, settings.sequences, settings.base_urls, settings.backend) == ("re", 3, (), "llama-cpp")
    assert (settings.cache_type_k, settings.profile, settings.ctx) == ("q8_0", None, 1024)
    served = RunSettings.from_options({"backend_name": BackendName.openai, "base_url": ["http://h:1"]})
    assert served.base_urls == ("http://h:1",) and served.backend == "openai"


def test_options_default_to_what_the_settings_default_to():
    """A command line without an option runs as the Python API does without the setting."""
    from dataclasses import MISSING, fields

    from ieclid.cli.options import RUN_OPTIONS
    from ieclid.settings import RunSettings

    defaults = {f.name: f.default for f in fields(RunSettings) if f.default is not MISSING}
    compared = 0
    for name, (_, option) in RUN_OPTIONS.items():
        if name in defaults and option.default is not None:
            default = option.default.value if hasattr(option.default, "value") else option.default
            assert default == defaults[name], name
            compared += 1
    assert compared > 10
