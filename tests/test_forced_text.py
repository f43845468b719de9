"""Once all a grammar allows is one text up to its end, that text completes the answer without
decoding; forced text elsewhere is decoded as before, so no answer changes."""

import numpy as np

from ieclid.backends.base import Completion

RELATION = 'root ::= "{\\"relation\\": \\"" ("cause-effect" | "effect-cause") "\\"}"\n'


def _accept(backend, sampler, text: str) -> None:
    for token in backend.llm.tokenize(text.encode(), add_bos=False, special=False):
        backend.choice.lc.llama_sampler_accept(sampler, token)


def _prompt(backend, question: str) -> str:
    return backend.format_chat([{"role": "user", "content": question}])


def test_the_forced_text_and_whether_it_runs_to_the_end(backend):
    sampler = backend.grammar_sampler(RELATION)
    try:
        assert backend.choice.forced_text(sampler) == (b'{"relation": "', False)
        _accept(backend, sampler, '{"relation": "eff')
        assert backend.choice.forced_text(sampler) == (b'ect-cause"}', True)
        _accept(backend, sampler, 'ect-cause"}')
        assert backend.choice.forced_text(sampler) == (b"", True)
    finally:
        backend.choice.lc.llama_sampler_free(sampler)


def test_an_answer_is_decoded_only_until_the_rest_is_forced(backend, monkeypatch):
    """Each chosen token but the last is decoded; the option's rest and `"}` are not."""
    steps: list[int] = []  # the batch rows whose logits were read (on the CPU the engine decodes)
    logits = backend._engine._logits
    monkeypatch.setattr(backend._engine, "_logits", lambda row: (steps.append(row), logits(row))[1])
    completion = backend.complete(_prompt(backend, "Does smoke cause fire?"), grammar=RELATION, max_tokens=32)
    assert completion.text in ('{"relation": "cause-effect"}', '{"relation": "effect-cause"}')
    assert completion.stopped == "eos"
    chosen = [logprob for _, logprob in completion.token_ends if logprob is not None]
    assert completion.forced_tokens == completion.completion_tokens - len(chosen) > 0
    assert completion.token_ends[-1][1] is None  # `"}` was forced
    assert len(steps) == len(chosen)  # after the prompt, then after every chosen token but the last


def test_forcing_the_end_changes_no_answer(backend, monkeypatch):
    grammars = [RELATION, 'root ::= "[" ("\\"red\\"" | "\\"blue\\"" | "\\"green\\"") ", \\"and more\\"]"\n']
    prompts = [_prompt(backend, q) for q in ("Does smoke cause fire?", "Name a colour.", "Is rain wet?")]
    forced = [backend.complete(p, grammar=g, max_tokens=32) for g in grammars for p in prompts]
    witnesses = backend.choice.witnesses
    # without forcing: the text is decoded until the grammar allows nothing but the end
    monkeypatch.setattr(backend.choice, "forced_text", lambda sampler: (
        b"", not backend.choice.allowed(sampler, witnesses, np.zeros(len(witnesses), np.float32)).size))
    decoded = [backend.complete(p, grammar=g, max_tokens=32) for g in grammars for p in prompts]
    assert [c.text for c in forced] == [c.text for c in decoded]
    assert all(c.forced_tokens for c in forced) and not any(c.forced_tokens for c in decoded)


def test_a_grammar_that_forces_the_whole_answer_is_not_decoded(backend, monkeypatch):
    """Nor is its prompt evaluated."""
    from ieclid.backends import batching

    evaluated: list[int] = []  # batch rows (on the CPU the engine decodes)
    set_row = batching.set_row
    monkeypatch.setattr(batching, "set_row", lambda batch, row, token, *rest: (
        evaluated.append(token), set_row(batch, row, token, *rest)))
    completion = backend.complete(_prompt(backend, "Name two colours."), grammar='root ::= "[\\"red\\", \\"blue\\"]"\n',
                                  max_tokens=32)
    assert (completion.text, completion.stopped) == ('["red", "blue"]', "eos")
    assert completion.forced_tokens == completion.completion_tokens > 0
    assert evaluated == []


def test_forced_text_in_the_middle_of_an_answer_is_decoded(backend):
    grammar = 'root ::= "[" ("\\"red\\"" | "\\"blue\\"") ", " ("\\"red\\"" | "\\"blue\\"") "]"\n'
    completion = backend.complete(_prompt(backend, "Name two colours."), grammar=grammar, max_tokens=32)
    assert completion.text in {f'["{a}", "{b}"]' for a in ("red", "blue") for b in ("red", "blue")}
    comma = completion.text.index(",")
    middle = [lp for end, lp in completion.token_ends if comma < end <= comma + 3]
    assert middle and None not in middle


def test_scores_leave_forced_tokens_out():
    completion = Completion('{"a": "b"}', 10, 3, [(6, -1.0), (8, None), (10, None)])
    assert abs(completion.score(0, 10) - np.exp(-1.0)) < 1e-9
    assert completion.score(7, 10) is None


def test_an_item_is_as_sure_as_its_least_likely_token():
    """"Maria" chosen at 0.46 before a sure " Keller: person" scores 0.46, not their mean."""
    completion = Completion(" Maria Keller: person", 10, 4,
                            [(6, np.log(0.46)), (13, np.log(0.88)), (14, 0.0), (21, np.log(0.99))])
    assert abs(completion.score(0, 21) - 0.46) < 1e-9
    assert abs(completion.score(6, 21) - 0.88) < 1e-9


def test_an_answer_is_not_ended_by_one_token_that_outweighs_each_longer_start(backend):
    """A token that alone completes the answer (here three backticks; `[]` in many vocabularies)
    is the first token only when it is likelier than all allowed longer starts together."""
    import numpy as np

    grammar = 'root ::= "```" | "``" [a-z]{1,5}\n'
    [fence] = backend.llm.tokenize(b"```", add_bos=False, special=False)
    [tick] = backend.llm.tokenize(b"`", add_bos=False, special=False)
    [ticks] = backend.llm.tokenize(b"``", add_bos=False, special=False)

    def first(scores: dict[int, float]) -> int:
        logits = np.full(backend.llm.n_vocab(), -30.0, dtype=np.float32)
        for token, score in scores.items():
            logits[token] = score
        sampler = backend.grammar_sampler(grammar)
        try:
            chosen = backend.choice.choose(logits, sampler, 0.0)
            return backend.choice.prefer_an_answer(logits, sampler, chosen)
        finally:
            backend.choice.lc.llama_sampler_free(sampler)

    assert first({fence: 0.0, tick: -0.3, ticks: -0.2}) == ticks  # the longer starts weigh more together
    assert first({fence: 0.0, tick: -2.0, ticks: -2.0}) == fence  # the model means the short answer
    assert first({fence: -1.0, ticks: 0.0}) == ticks
