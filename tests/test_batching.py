"""Continuous batching in process: answers decoded together are the answers decoded one by one,
shared prefixes are evaluated once, one bad request fails alone, and runs repeat."""

import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from ieclid.assembly import open_extractor
from ieclid.backends.in_process import LlamaCppBackend
from ieclid.backends.schedule import Schedule
from ieclid.datasets import read_conll
from ieclid.documents import Document
from ieclid.errors import IeclidError
from ieclid.models import embedded_model_path
from ieclid.run import extract_each, extract_records
from ieclid.settings import RunSettings

SYSTEM = ("You label the sentiment of product reviews. Answer with one word: positive, negative or "
          "neutral. Be brief and do not explain.")
REVIEWS = ["The battery died after two days.", "Works exactly as described, love it!", "It is a phone.",
           "Terrible support, never again.", "Best purchase of the year.", "Arrived on Tuesday.",
           "The screen cracked in a week.", "Good value for the price."]
GRAMMAR = 'root ::= ("positive" | "negative" | "neutral") "."'


def prompts(backend: LlamaCppBackend) -> list[str]:
    return [backend.format_chat([{"role": "system", "content": SYSTEM}, {"role": "user", "content": r}])
            for r in REVIEWS]


def run_all(backend: LlamaCppBackend, grammar: str | None, workers: int, max_tokens: int = 24):
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda p: backend.complete(p, grammar=grammar, max_tokens=max_tokens,
                                                        temperature=0.0), prompts(backend)))


@pytest.fixture(scope="module")
def batched():
    backend = LlamaCppBackend(embedded_model_path(), threads=2, ctx=2048, parallel=4)
    yield backend
    backend.close()


def test_batched_answers_equal_one_by_one_answers(backend, batched):
    # On the CPU one answer at a time goes through the engine too, and the engine lays out the KV
    # cache so that company changes no sum (backends/cells.py): the same texts and log-
    # probabilities, bit for bit.
    alone = [backend.complete(p, grammar=GRAMMAR, max_tokens=24, temperature=0.0) for p in prompts(backend)]
    one_by_one = [batched.complete(p, grammar=GRAMMAR, max_tokens=24, temperature=0.0) for p in prompts(batched)]
    # decoded together the way a run does it, so which answers share a step repeats (threads that
    # submit as they please batch by timing, and a close call then flips on some runs only)
    complete = lambda p: batched.complete(p, grammar=GRAMMAR, max_tokens=24, temperature=0.0)  # noqa: E731
    together = list(extract_each(complete, prompts(batched), 4, batched.schedule))
    assert batched._engine.busiest == 4
    for answers in (one_by_one, together):
        assert [c.text for c in answers] == [c.text for c in alone]
        assert [c.token_ends for c in answers] == [c.token_ends for c in alone]
    assert all(c.text in ("positive.", "negative.", "neutral.") for c in together)
    assert all(c.forced_tokens for c in together)  # the "." at least is never decoded


def test_the_shared_prefix_is_evaluated_once(batched):
    results = run_all(batched, GRAMMAR, workers=4)
    shared = len(batched.tokenize_prompt(prompts(batched)[0])) - 20  # the system turn and more
    assert sum(c.cached_tokens >= shared for c in results) >= len(REVIEWS) - 1


def test_a_bad_request_fails_alone(batched):
    texts = prompts(batched)
    with ThreadPoolExecutor(3) as pool:
        good = [pool.submit(batched.complete, t, grammar=GRAMMAR, max_tokens=8, temperature=0.0) for t in texts[:2]]
        bad = pool.submit(batched.complete, texts[2], grammar='root ::= "unclosed', max_tokens=8, temperature=0.0)
        with pytest.raises(IeclidError, match="grammar"):
            bad.result()
        assert all(f.result().text.endswith(".") for f in good)
    assert run_all(batched, GRAMMAR, 4)[0].text.endswith(".")  # the engine goes on


def test_a_small_context_is_shared_without_overflow():
    """Admission waits for room: 60-token answers to ~47-token prompts in 304 tokens of KV, of
    which the CPU layout keeps 32 for itself. The 34 tokens the prompts share are counted once (32
    of them: whole chunks of 16 cells; each answer's own 75 cells take 80), so three answers fit
    together (counting every prompt whole, 47 + 60 tokens each, would admit two)."""
    backend = LlamaCppBackend(embedded_model_path(), threads=2, ctx=304, parallel=4)
    try:
        results = run_all(backend, None, workers=4, max_tokens=60)
        busiest = backend._engine.busiest
    finally:
        backend.close()
    assert len(results) == len(REVIEWS) and all(c.completion_tokens > 0 for c in results)
    assert busiest == 3


def test_documents_in_flight_outnumber_the_answers_decoded_together():
    """In process, more documents are in flight than answers are decoded together, so one long
    answer does not hold the next documents back; one at a time and servers stay as they are."""
    assert RunSettings(task="ner", sequences=8).in_flight == 32
    assert RunSettings(task="ner", sequences=1).in_flight == 1
    assert RunSettings(task="ner", backend="openai", concurrency=3).in_flight == 3


def test_the_engine_waits_for_every_document_in_flight_and_takes_them_in_order():
    """Requests join in document order, whichever thread asks first, and only once every
    document in the window has asked or finished."""
    schedule = Schedule()
    answered = threading.Event()
    asked: list[SimpleNamespace] = []

    def document(number: int) -> None:
        with schedule.working(number):
            request = SimpleNamespace(number=number)
            asked.append(request)
            schedule.submit(request)
            answered.wait(10)

    with schedule.run(window=3):
        numbers = [schedule.enter() for _ in range(3)]
        later = [threading.Thread(target=document, args=(n,)) for n in reversed(numbers[1:])]
        for thread in later:
            thread.start()
        taken: list = []
        engine = threading.Thread(target=lambda: taken.extend(schedule.take(idle=True)[0]))
        engine.start()
        engine.join(0.3)
        assert engine.is_alive() and not taken  # document 0 has not asked yet
        first = threading.Thread(target=document, args=(0,))
        first.start()
        engine.join(10)
        assert [r.number for r in taken] == [0, 1, 2]
        for request in asked:
            schedule.answered(request)
        answered.set()
        for thread in (*later, first):
            thread.join(10)
        schedule.end()
        assert schedule.take(idle=False) == ([], False)  # all finished: nothing to wait for


def test_batched_runs_repeat_bit_for_bit(shared_data):
    """Which answers share a batch changes the sums a little; the schedule makes it the same on
    every run, so the records are too (scores included). A run left early does not hang."""
    sentences = [d.text for d in list(read_conll(shared_data / "wnut17" / "test.conll"))[:16]]
    settings = RunSettings(task="ner", schema="wnut17", model="smollm2", threads=2, sequences=4, ctx=2048)
    extractor, backend = open_extractor(settings)
    try:
        def run() -> list[dict]:
            documents = (Document(str(n), text) for n, text in enumerate(sentences))
            records = list(extract_each(extractor.extract, documents, settings.in_flight, backend.schedule))
            for record in records:  # timings, and the prompt cached from what ran before, vary
                record["usage"].pop("seconds")
                record["usage"].pop("cached_prompt_tokens")
            return records

        for _ in extract_each(extractor.extract, (Document("x", t) for t in sentences), 8, backend.schedule):
            break
        first, second = run(), run()
    finally:
        backend.close()
    assert first == second
    assert sum(len(r["entities"]) for r in first) > 0


def test_a_long_documents_chunks_are_decoded_together(shared_data):
    """One long document is worked on like many short ones: its chunks' answers share the batch,
    the run repeats bit for bit, offsets point into the whole text, and the prompts are the ones
    read one chunk after another."""
    sentences = [d.text for d in list(read_conll(shared_data / "wnut17" / "test.conll"))[:12]]
    text = " ".join(sentences)
    settings = RunSettings(task="ner", schema="wnut17", model="smollm2", threads=2, sequences=4, ctx=2048,
                           max_chunk_tokens=48)
    extractor, backend = open_extractor(settings)
    try:
        assert len(extractor.plan(Document("long", text)).parts) > 4

        def run(in_flight: int) -> dict:
            (record,) = extract_records(extractor, [Document("long", text)], in_flight)
            record["usage"].pop("seconds")
            record["usage"].pop("cached_prompt_tokens")  # a later run finds the prefix cached
            return record

        together, again = run(settings.in_flight), run(settings.in_flight)
        assert backend._engine.busiest == 4
        one_by_one = run(1)
    finally:
        backend.close()
    assert together == again
    assert together["usage"]["prompt_tokens"] == one_by_one["usage"]["prompt_tokens"]
    exact = [e for e in together["entities"] if e["status"] == "exact"]
    assert exact and all(text[e["start"]:e["end"]] == e["text"] for e in exact)


def test_an_ending_rule_ends_answers_early_one_by_one_and_batched(backend, batched):
    """The rule sees the answer after every token; the answer it returns is the completion."""
    grammar = 'root ::= "[\\"red\\", \\"blue\\", \\"green\\", \\"pink\\"]"'
    prompt = backend.format_chat([{"role": "user", "content": "Name four colours."}])
    full = backend.complete(prompt, grammar=grammar, max_tokens=32)

    def ending(answer: str) -> str | None:
        return answer[: answer.index('"blue"') + 6] + "]" if '"blue"' in answer else None

    for model in (backend, batched):
        ended = model.complete(prompt, grammar=grammar, max_tokens=32, ending=ending)
        assert (ended.text, ended.stopped) == ('["red", "blue"]', "ended")
        assert ended.completion_tokens < full.completion_tokens
        assert all(end <= len(ended.text) for end, _ in ended.token_ends)
