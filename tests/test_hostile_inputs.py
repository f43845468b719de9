"""Hostile and careless inputs: every number checked before the model loads, nothing native on
stdout, credentials kept to the host they were meant for, demonstration files of the wrong
shape refused, and every profile's parser fed generated garbage without an exception escaping."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from test_cli import ROOT, assert_one_line_error, ieclid, records

from ieclid.backends.openai import api_key_for
from ieclid.documents import read_documents
from ieclid.profiles import make_profile
from ieclid.profiles.qa4re import Qa4reProfile
from ieclid.schema import Schema, load_schema
from ieclid.tasks import TASKS, Answer, Example, Request


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("--ctx", "10", "--ctx must be between 512"),
        ("--ctx", "0", "--ctx must be between 512"),
        ("--ctx", "-5", "--ctx must be between 512"),
        ("--threads", "-1", "--threads must be between 1"),
        ("--threads", "0", "--threads must be between 1"),
        ("--parallel", "0", "--parallel must be between 1 and 64"),
        ("--max-chunk-tokens", "8", "--max-chunk-tokens must be between 16"),
        ("--max-chunk-tokens", "5000", "--max-chunk-tokens must be between 16 and 2048"),
        ("--shots", "-1", "--shots must be between 0"),
        ("--chunk-sentences", "-2", "--chunk-sentences must be between 0"),
        ("--chunk-overlap", "-1", "--chunk-overlap must be between 0"),
        ("--temperature", "-0.5", "--temperature must be between 0"),
        ("--seed", "-1", "--seed must be between 0"),
        ("--n-gpu-layers", "-7", "--n-gpu-layers must be between -1"),
        ("--timeout", "0", "--timeout must be between"),
        ("--min-score", "1.5", "--min-score must be between 0.0 and 1.0"),
    ],
)
def test_every_number_is_checked_before_the_model_loads(option, value, fragment):
    result = ieclid("extract", option, value, "-", stdin="Paris is lovely.", timeout=60)
    assert_one_line_error(result, 2, fragment)
    assert result.stdout == ""


def test_a_model_or_foreign_adapter_given_as_lora_is_one_line(tmp_path):
    """llama.cpp crashes on either; ieclid refuses them first."""
    import gguf
    import numpy as np

    from ieclid.models import embedded_model_path

    result = ieclid("extract", "--lora", embedded_model_path(), "-", stdin="Ann met Bob.", timeout=60)
    assert_one_line_error(result, 2, "is not a LoRA adapter (a model file goes to --model)")
    foreign = tmp_path / "qwen-adapter.gguf"
    writer = gguf.GGUFWriter(str(foreign), "qwen2")
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_tensor("blk.0.attn_q.weight.lora_a", np.zeros((8, 896), np.float32))
    writer.add_tensor("blk.0.attn_q.weight.lora_b", np.zeros((896, 8), np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    result = ieclid("extract", "--lora", str(foreign), "-", stdin="Ann met Bob.", timeout=60)
    assert_one_line_error(result, 2, "is an adapter for qwen2 models; SmolLM2-135M-Instruct.Q4_1.gguf is llama")
    assert result.stdout == ""


def test_native_writes_to_stdout_go_to_stderr_while_records_go_to_stdout():
    """llama.cpp writes to descriptor 1 behind Python's back (an abort's backtrace among it)."""
    script = (
        "import os\nfrom ieclid.outputs import JsonlWriter, records_stdout\n"
        "with records_stdout() as out:\n"
        "    os.write(1, b'native noise\\n')\n"
        "    print('a stray print')\n"
        "    JsonlWriter(None, stdout=out).write({'id': 'x'})\n"
        "print('after')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout == '{"id":"x"}\nafter\n'
    assert "native noise" in result.stderr and "a stray print" in result.stderr


def test_a_reader_that_goes_away_ends_the_run_quietly(tmp_path):
    path = tmp_path / "many.txt"
    path.write_text("\n".join(f"Line {i} names Berlin." for i in range(60)))
    proc = subprocess.Popen([sys.executable, "-m", "ieclid", "extract", "-q", "--lines", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    first = proc.stdout.readline()
    proc.stdout.close()  # `| head -1`
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0 and err == b"", err
    assert json.loads(first)["id"].endswith(":1")


def test_lines_are_numbered_as_editors_count_them(tmp_path):
    path = tmp_path / "odd.txt"
    path.write_text("one\fstill one\r\ntwo \u2028 still two\n\nfour\n", encoding="utf-8", newline="")
    ids = [(d.id.rsplit(":", 1)[1], d.text) for d in read_documents([str(path)], lines=True)]
    assert ids == [("1", "one\fstill one"), ("2", "two \u2028 still two"), ("4", "four")]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('"just a string"\n', "unknown format"),
        ('{"text": 5, "entities": []}\n', "a string 'text'"),
        ('{"text": "Paris", "entities": "Paris"}\n', "'entities' is a list of objects"),
        ('{"text": "Paris", "entities": ["Paris"]}\n', "'entities' is a list of objects"),
        ('{"text": "Angela Merkel", "entities": [{"label": "person", "start": 8, "end": 3}]}\n',
         "start 8 and end 3"),
        ('{"text": "Paris", "entities": [{"label": "location", "start": 0, "end": 99}]}\n', "end 99"),
        ('{"text": "Paris", "entities": [{"label": 7, "start": 0, "end": 5}]}\n', "no string 'label'"),
    ],
)
def test_demonstration_files_of_the_wrong_shape_are_usage_errors(tmp_path, content, fragment):
    demos = tmp_path / "demos.jsonl"
    demos.write_text(content)
    result = ieclid("extract", "--demos", str(demos), "-", stdin="Paris is lovely.", timeout=60)
    assert_one_line_error(result, 2, fragment)


def test_one_failed_document_is_one_line(tmp_path):
    binary = tmp_path / "a.txt"
    binary.write_bytes(b"\x00\x01")
    result = ieclid("extract", "-q", str(binary), timeout=120)
    assert result.returncode == 1 and result.stderr.strip().splitlines() == [
        f"ieclid: error: {binary}: binary file, not UTF-8 text"]


class _Recorder(BaseHTTPRequestHandler):
    """An OpenAI-compatible server that notes each request's Authorization header; with
    `redirect_to`, it answers every request with a 302 there instead."""

    seen: list[tuple[str, str | None]]
    redirect_to: str | None = None

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self._handle({"data": [{"id": "m"}]})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._handle({"choices": [{"text": "[Answer]: NA", "finish_reason": "stop"}], "usage": {}})

    def _handle(self, payload: dict) -> None:
        self.seen.append((self.command, self.headers.get("Authorization")))
        if self.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.redirect_to + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(redirect_to: str | None = None) -> tuple[ThreadingHTTPServer, list]:
    seen: list = []
    handler = type("Handler", (_Recorder,), {"seen": seen, "redirect_to": redirect_to})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, seen


def url(httpd: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}"


def test_a_redirect_never_carries_the_api_key_elsewhere():
    elsewhere, seen_there = serve()
    redirecting, seen_here = serve(redirect_to=url(elsewhere))
    try:
        result = ieclid("extract", "--backend", "openai", "--base-url", url(redirecting), "--api-key", "secret",
                        "-", stdin="Paris is lovely.", timeout=120)
    finally:
        redirecting.shutdown()
        elsewhere.shutdown()
    assert_one_line_error(result, 1, "redirects (HTTP 302)")
    assert seen_here == [("GET", "Bearer secret")] and seen_there == []


def test_openai_api_key_goes_to_openai_alone(monkeypatch):
    monkeypatch.delenv("IECLID_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-users-own")
    assert api_key_for(["https://api.openai.com/v1"], None) == "sk-users-own"
    assert api_key_for(["http://api.openai.com/v1"], None) is None  # not over plain HTTP
    assert api_key_for(["https://evil.example/v1"], None) is None
    assert api_key_for(["https://api.openai.com/v1", "https://evil.example/v1"], None) is None
    assert api_key_for(["https://evil.example/v1"], "given") == "given"
    monkeypatch.setenv("IECLID_API_KEY", "for-my-servers")
    assert api_key_for(["http://127.0.0.1:8000/v1"], None) == "for-my-servers"


@pytest.mark.slow
def test_a_server_named_by_base_url_does_not_get_openai_api_key(tmp_path):
    server, seen = serve()
    env_key = {"OPENAI_API_KEY": "sk-users-own", "IECLID_API_KEY": ""}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "ieclid", "extract", "-q", "--backend", "openai", "--base-url", url(server),
             "-"], input="Paris is lovely.", capture_output=True, text=True, cwd=ROOT, timeout=120,
            env={**__import__("os").environ, **env_key},
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert records(result.stdout)[0]["entities"] == []
    assert seen and all(auth is None for _, auth in seen)


# The parser fuzz: answers as each profile writes them for demonstrations, then broken.

SCHEMAS = {"ner": "conll2003", "rc": "semeval2010", "re": "general", "ed": "phee", "eae": "phee",
           "ee": "phee", "ere": "matres"}
EXAMPLES = {
    "ner": Example("Angela Merkel visited Paris.", mentions=(("Angela Merkel", "person"), ("Paris", "location"))),
    "ed": Example("The patient developed a rash.", mentions=(("developed", "adverse event"),)),
    "eae": Example("The <event>rash</event> followed aspirin.", mentions=(("aspirin", "Treatment"),)),
    "re": Example("Anna works for Acme.", triples=(("Anna", "works for", "Acme"),)),
    "rc": Example("The <e1>fire</e1> caused <e2>smoke</e2>.", choice=("Cause-Effect", False)),
    "ere": Example("It <e1>rained</e1> before it <e2>snowed</e2>.", choice=("BEFORE", False)),
    "openie": Example("Anna founded Acme in 2001.", tuples=(("founded", "Anna", "Acme", "in 2001"),)),
}
TABLE_ANSWERS = ["| Drug | Dose |\n| --- | --- |\n| atenolol | 50 mg |\n",
                 '{"columns": ["Drug", "Dose"], "rows": [["atenolol", "50 mg"]]}']
JUNK = ['{"a": [1, {"b": null}]}', "[Answer]: ", "NA", "[]", "{}", "null", '"', "\\u", "|", ":;", "\x00",
        "\ud800", '"\\ud800"', '"\\q"', "\u202e", "\n\n\n", "{" * 3000, "[" * 3000]


def mutate(seed: str, rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        return seed[: rng.randrange(len(seed) + 1)]  # truncated
    if kind == 1:  # random characters, control characters and lone surrogates spliced in
        at = rng.randrange(len(seed) + 1)
        noise = "".join(chr(rng.choice([rng.randrange(32), rng.randrange(32, 0x2FF), 0xD800 + rng.randrange(2048),
                                        0x10FFFF, ord(rng.choice('[]{}":;,|\\'))]))
                        for _ in range(rng.randrange(1, 12)))
        return seed[:at] + noise + seed[at:]
    if kind == 2:  # nested
        depth = rng.choice([1, 5, 50, 2000])
        return rng.choice(["[", "{", '{"entities": ']) * depth + seed + rng.choice(["]", "}"]) * depth
    if kind == 3:  # JSON of the wrong types
        return json.dumps(rng.choice([5, None, True, "text", [1, 2], {"entities": "x"}, {"entities": [5]},
                                      {"entities": [{"text": 5, "label": None}]}, [{"head": [], "tail": {}}],
                                      {"columns": 5, "rows": [[1, None]]}]))
    if kind == 4:  # huge
        return seed * rng.choice([100, 2000])
    if kind == 5:  # invalid escapes
        return seed.replace('"', rng.choice(['"\\ud83d', '"\\x41', '"\\', '\\"']), rng.randrange(1, 4))
    if kind == 6:  # characters deleted
        chars = list(seed)
        for _ in range(rng.randrange(1, 6)):
            if chars:
                del chars[rng.randrange(len(chars))]
        return "".join(chars)
    if kind == 7:
        return rng.choice(JUNK)
    return seed + rng.choice(JUNK)  # trailing garbage


def profiles():
    def render(messages):
        return "\n".join(m["content"] for m in messages)

    return {
        "adelie": make_profile("adelie", render, tulu=True),
        "adelie-aligned": make_profile("adelie", render, tulu=False),
        "chat-json": make_profile("chat-json", render),
        "chat-json-verbatim": make_profile("chat-json", render, verbatim=True),
        "instructuie": make_profile("instructuie", render),
        "qa4re": Qa4reProfile(render, "chat-json"),
    }


@pytest.mark.parametrize("name", list(profiles()))
def test_no_answer_makes_a_parser_raise(name):
    profile = profiles()[name]
    tasks = ("rc",) if name == "qa4re" else getattr(profile, "tasks", tuple(TASKS))
    tasks = [task for task in tasks if task != "ee"]  # ee is asked as ed, then eae
    rng = random.Random(name)
    per_task = 10_000 // len(tasks) + 1
    parsed = 0
    for task in tasks:
        schema = load_schema(SCHEMAS[task]) if task in SCHEMAS else Schema(task)
        request = Request(instruction="every drug with its dose") if task == "table" else Request()
        seeds = list(JUNK)
        if task == "table":
            seeds += TABLE_ANSWERS
        else:
            seeds.append(profile.answer(task, schema, EXAMPLES[task], request))
        for _ in range(per_task):
            answer = mutate(rng.choice(seeds), rng)
            try:
                result = profile.parse(task, schema, answer, request)
            except Exception as exc:
                pytest.fail(f"{name} {task}: {type(exc).__name__}: {exc} on {answer[:200]!r}")
            assert isinstance(result, Answer)
            parsed += 1
    assert parsed >= 10_000
