"""`--backend openai`: the grammar goes where each kind of server reads it (a recording server)."""

import pytest
from json_server import JsonHandler, serve
from test_cli import assert_one_line_error, ieclid, records

SENTENCES = ["Angela Merkel met Emmanuel Macron in Paris.", "Apple opened an office in Berlin."]


def recording_server(owned_by: str, version: str | None):
    """A server that lists one model owned by `owned_by`, says `version` at /version (404 when
    None), answers every completion with the same entity, and keeps the request bodies."""
    bodies: list[dict] = []

    class Recording(JsonHandler):
        def do_GET(self) -> None:
            if self.path == "/v1/models":
                self.answer(200, {"data": [{"id": "served", "owned_by": owned_by}]})
            elif self.path == "/version" and version:
                self.answer(200, {"version": version})
            else:
                self.answer(404, {"error": "not found"})

        def do_POST(self) -> None:
            bodies.append(self.body())
            answer = '{"entities": [{"text": "Angela Merkel", "label": "person"}]}'  # the chat-json profile's
            self.answer(200, {"choices": [{"text": answer, "finish_reason": "stop"}],
                              "usage": {"prompt_tokens": 10, "completion_tokens": 5}})

    httpd, url = serve(Recording)
    return httpd, url, bodies


def run_against(tmp_path, owned_by: str, version: str | None, *options: str):
    httpd, url, bodies = recording_server(owned_by, version)
    text = tmp_path / "news.txt"
    text.write_text("\n".join(SENTENCES) + "\n")
    try:
        result = ieclid("extract", "--lines", "--quiet", "--backend", "openai", "--base-url", url,
                        *options, str(text))
    finally:
        httpd.shutdown()
    assert result.returncode == 0, result.stderr
    return result, bodies


@pytest.mark.parametrize(("owned_by", "version", "options", "field"), [
    ("llamacpp", None, (), "grammar"),
    ("vllm", "0.13.1", (), "structured_outputs"),
    ("vllm", "0.11.0", (), "guided_grammar"),
    ("vllm", None, (), "structured_outputs"),  # no /version: taken for a current vLLM
    ("someone", None, ("--server-kind", "vllm"), "structured_outputs"),
])
def test_the_grammar_goes_where_the_server_reads_it(tmp_path, owned_by, version, options, field):
    result, bodies = run_against(tmp_path, owned_by, version, *options)
    assert len(bodies) == 2
    fields = {"grammar", "structured_outputs", "guided_grammar"}
    for body in bodies:
        assert fields & set(body) == {field}
        grammar = body[field]["grammar"] if field == "structured_outputs" else body[field]
        assert grammar.startswith("root ::= list")  # the chat-json profile's, checked here first
        assert body["model"] == "served" and body["temperature"] == 0
        if owned_by == "vllm" or "vllm" in options:
            assert body["repetition_penalty"] == 1.0 and "repeat_penalty" not in body
    found = [(e["text"], e["status"]) for r in records(result.stdout) for e in r["entities"]]
    assert found == [("Angela Merkel", "exact"), ("Angela Merkel", "unplaced")]  # not in the second text
    assert "warning" not in result.stderr


def test_an_unconstrained_server_gets_no_grammar_and_the_user_is_told_once(tmp_path):
    result, bodies = run_against(tmp_path, "llamacpp", None, "--server-kind", "unconstrained")
    assert bodies and not any({"grammar", "structured_outputs", "guided_grammar"} & set(b) for b in bodies)
    assert result.stderr.count("takes no grammar") == 1
    found = [(e["text"], e["status"]) for r in records(result.stdout) for e in r["entities"]]
    assert found == [("Angela Merkel", "exact"), ("Angela Merkel", "unplaced")]  # not in the second text


def test_server_kind_is_for_servers(tmp_path):
    text = tmp_path / "a.txt"
    text.write_text("Anna flew to Paris.\n")
    assert_one_line_error(ieclid("extract", "--server-kind", "vllm", str(text)), 2,
                          "--server-kind is for --backend openai")


def test_a_name_related_to_itself_is_left_out(tmp_path):
    """Small models echo the subject as the object ("(Ann; works for; Ann)"): no relation."""

    class Echoing(JsonHandler):
        def do_GET(self) -> None:
            self.answer(200, {"data": [{"id": "served", "owned_by": "llamacpp"}]})

        def do_POST(self) -> None:
            self.body()
            answer = ('[{"head": "Ann Lee", "relation": "works for", "tail": "ann  lee"}, '
                      '{"head": "Ann Lee", "relation": "works for", "tail": "Acme"}]')
            self.answer(200, {"choices": [{"text": answer, "finish_reason": "stop"}],
                              "usage": {"prompt_tokens": 10, "completion_tokens": 5}})

    httpd, url = serve(Echoing)
    text = tmp_path / "news.txt"
    text.write_text("Ann Lee works for Acme.\n")
    try:
        result = ieclid("extract", "--task", "re", "--quiet", "--backend", "openai", "--base-url", url, str(text))
    finally:
        httpd.shutdown()
    assert result.returncode == 0, result.stderr
    (record,) = records(result.stdout)
    ends = {e["id"]: e["text"] for e in record["entities"]}
    assert [(ends[r["head"]], r["label"], ends[r["tail"]]) for r in record["relations"]] == [
        ("Ann Lee", "works for", "Acme")]


def test_the_order_of_the_ends_gives_a_relation_without_roles_its_direction(tmp_path):
    """`part of` has no role wording to say which way it runs: `(Google; part of; Alphabet)` for
    <e1>Alphabet</e1> ... <e2>Google</e2> is Google part of Alphabet, e2 -> e1."""
    answers = iter(["[Answer]: (Google; part of; Alphabet)", "[Answer]: (Google; part of; Alphabet)"])

    class Answering(JsonHandler):
        def do_GET(self) -> None:
            self.answer(200, {"data": [{"id": "served", "owned_by": "llamacpp"}]})

        def do_POST(self) -> None:
            self.body()
            self.answer(200, {"choices": [{"text": next(answers), "finish_reason": "stop"}],
                              "usage": {"prompt_tokens": 10, "completion_tokens": 5}})

    httpd, url = serve(Answering)
    text = tmp_path / "pairs.txt"
    text.write_text("<e1>Alphabet</e1> owns <e2>Google</e2>.\n<e1>Google</e1> belongs to <e2>Alphabet</e2>.\n")
    try:
        result = ieclid("extract", "--task", "rc", "--schema", "general", "--profile", "adelie", "--lines",
                        "--quiet", "--backend", "openai", "--base-url", url, str(text))
    finally:
        httpd.shutdown()
    assert result.returncode == 0, result.stderr
    found = []
    for record in records(result.stdout):
        ends = {e["id"]: e["text"] for e in record["entities"]}
        found += [(ends[r["head"]], r["label"], ends[r["tail"]]) for r in record["relations"]]
    assert found == [("Google", "part of", "Alphabet")] * 2
