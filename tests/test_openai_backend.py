"""`--backend openai` against llama-cpp-python's own OpenAI-compatible server on loopback."""

import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from json_server import JsonHandler, serve
from test_cli import assert_one_line_error, ieclid, records

from ieclid.models import embedded_model_path

SENTENCES = [
    "Angela Merkel met Emmanuel Macron in Paris on Monday.",
    "Apple opened a new office in Berlin.",
    "The Rolling Stones played at Wembley Stadium in London.",
]

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# `python -m llama_cpp.server`, its model loaded as ieclid loads one: on an AMX build, weights kept
# out of the AMX buffers whose kernel crashed decoding here (ieclid/backends/weight_buffers.py).
SERVE = ("import runpy\nfrom ieclid.backends.weight_buffers import weights_off_amx\n"
         "with weights_off_amx():\n    runpy.run_module('llama_cpp.server', run_name='__main__')")


@pytest.fixture(scope="module")
def server():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, "--model", embedded_model_path(), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "4096", "--n_threads", "2", "--verbose", "False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(url + "/v1/models", timeout=2).read()
            break
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                process.kill()
                pytest.fail(f"llama_cpp.server did not start: {process.stderr.read()[-2000:]}")
            time.sleep(0.5)
    yield url
    process.terminate()
    process.wait(timeout=30)


def spans(record: dict) -> list[tuple]:
    return [(e["label"], e["text"], e["start"], e["end"], e["status"]) for e in record["entities"]]


def test_server_records_match_in_process(server, tmp_path):
    text = tmp_path / "news.txt"
    text.write_text("\n".join(SENTENCES) + "\n")
    # The reference is the one-at-a-time path: a server evaluates each prompt in one piece after
    # the cached prefix, as that path does; batched decoding splits the work into other matrix
    # shapes, which moves log-probabilities a little and can flip a close choice.
    # The server runs the plain embedded model, so the local run does too (no bundled adapter, and
    # the file as it is, not its CPU copy), with the server's F16 keys.
    local = ieclid("extract", "--lines", "--quiet", "--threads", "2", "--parallel", "1", "--model", "smollm2",
                   "--no-cpu-copy", "--cache-type-k", "f16", str(text))
    remote = ieclid("extract", "--lines", "--quiet", "--backend", "openai", "--base-url", server, str(text))
    assert local.returncode == 0 and remote.returncode == 0, remote.stderr
    local_records, remote_records = records(local.stdout), records(remote.stdout)
    assert [r["id"] for r in remote_records] == [r["id"] for r in local_records]  # order kept
    for mine, theirs in zip(local_records, remote_records, strict=True):
        assert spans(theirs) == spans(mine)
        # A server's answer runs on past the point where an ending rule ends it here (the rule is
        # applied to its finished answer), and text the grammar forces to the end is tokenized
        # here as a whole but decoded there token by token; every token chosen here it chose too.
        used = mine["usage"]["completion_tokens"] - mine["usage"]["forced_tokens"]
        assert theirs["usage"]["completion_tokens"] >= used

    marked = tmp_path / "rc.txt"
    marked.write_text("The <e1>kitchen</e1> is the last renovated part of the <e2>house</e2>.\n")
    args = ("extract", "--task", "rc", "--method", "qa4re", "--quiet", str(marked))
    local_rc = ieclid(*args, "--parallel", "1", "--model", "smollm2", "--no-cpu-copy", "--cache-type-k", "f16")
    remote_rc = ieclid(*args, "--backend", "openai", "--base-url", server + "/v1")
    assert records(remote_rc.stdout)[0]["relations"] == records(local_rc.stdout)[0]["relations"]


def test_an_ending_rule_cuts_a_server_answer_as_it_would_a_local_one(server):
    from ieclid.backends.openai import OpenAIBackend

    remote = OpenAIBackend(embedded_model_path(), [server])
    try:
        grammar = 'root ::= "[\\"red\\", \\"blue\\", \\"green\\"]"'
        prompt = remote.format_chat([{"role": "user", "content": "Name three colours."}])

        def ending(answer: str) -> str | None:
            return answer + "]" if answer.endswith('"blue"') else None

        ended = remote.complete(prompt, grammar=grammar, max_tokens=32, ending=ending)
        assert (ended.text, ended.stopped) == ('["red", "blue"]', "ended")
        assert all(end <= len(ended.text) for end, _ in ended.token_ends)
    finally:
        remote.close()


def test_dead_servers_are_skipped_and_failures_stay_per_document(server, tmp_path):
    text = tmp_path / "news.txt"
    text.write_text("\n".join(SENTENCES) + "\n")
    dead = f"http://127.0.0.1:{free_port()}"
    mixed = ieclid("extract", "--lines", "--quiet", "--backend", "openai", "--base-url", dead, "--base-url", server,
                   "--concurrency", "2", str(text))
    assert mixed.returncode == 0, mixed.stderr
    assert [r["id"] for r in records(mixed.stdout)] == [f"{text}:{n}" for n in (1, 2, 3)]
    assert all("error" not in r for r in records(mixed.stdout))

    assert_one_line_error(
        ieclid("extract", "--backend", "openai", "--base-url", dead, str(text)), 1, "no server answered"
    )
    assert_one_line_error(ieclid("extract", "--backend", "openai", str(text)), 2, "needs --base-url")
    assert_one_line_error(ieclid("extract", "--base-url", server, str(text)), 2, "are for --backend openai")


def test_a_failing_server_fails_only_its_documents(tmp_path):
    """A server that lists a model but answers every completion with HTTP 500."""

    class Failing(JsonHandler):
        def do_GET(self) -> None:
            self.answer(200, {"data": [{"id": "broken"}]})

        def do_POST(self) -> None:
            self.body()
            self.answer(500, {"error": "out of memory"})

    httpd, url = serve(Failing)
    text = tmp_path / "news.txt"
    text.write_text("\n".join(SENTENCES) + "\n")
    try:
        result = ieclid("extract", "--lines", "--quiet", "--backend", "openai", "--concurrency", "3",
                        "--base-url", url, str(text))
    finally:
        httpd.shutdown()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    written = records(result.stdout)
    assert len(written) == 3 and all("no server answered" in r["error"] for r in written)
    assert "3 of 3 documents failed" in result.stderr

