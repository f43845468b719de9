"""Grammars: escaping, span tries, ordered items, and llama.cpp's acceptance of each one."""

import re

import pytest

from ieclid.datasets import read_conll
from ieclid.errors import IeclidError
from ieclid.grammar import json_string_escape, literal, ordered_item_rules, span_rules, unstartable_words
from ieclid.profiles.adelie import AdelieProfile
from ieclid.profiles.chat_json import ChatJsonProfile
from ieclid.schema import load_schema


def test_literal_escapes_quotes_controls_and_non_ascii():
    assert literal('a"b\\c') == r'"a\"b\\c"'
    assert literal("x\ny\tz") == r'"x\ny\tz"'
    assert literal("é😀") == r'"\u00e9\U0001f600"'


def _language(rules: list[str], start: str) -> set[str]:
    """Every string a small, non-recursive rule set derives: an oracle for the builders."""
    table = dict(rule.split(" ::= ", 1) for rule in rules)
    token_re = re.compile(r'"(?:\\.|[^"\\])*"|[\w-]+\??|\(|\)\??|\|')

    def derive(tokens: list[str]) -> set[str]:
        alternatives: list[set[str]] = []
        results = {""}
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok == "|":
                alternatives.append(results)
                results = {""}
                i += 1
                continue
            if tok == "(":
                depth, j = 1, i + 1
                while depth:
                    depth += tokens[j] == "("
                    depth -= tokens[j].startswith(")")
                    j += 1
                inner = derive(tokens[i + 1 : j - 1]) | ({""} if tokens[j - 1] == ")?" else set())
                i = j
            elif tok.startswith('"'):
                inner = {tok[1:-1].encode().decode("unicode_escape")}
                i += 1
            else:
                inner = derive(token_re.findall(table[tok.rstrip("?")]))
                inner |= {""} if tok.endswith("?") else set()
                i += 1
            results = {a + b for a in results for b in inner}
        alternatives.append(results)
        return set().union(*alternatives)

    return derive(token_re.findall(table[start]))


def test_span_rules_derive_exactly_the_word_runs_of_the_text():
    text = "New York, NY"
    spans = _language(span_rules(text, max_pieces=3), "span")
    assert "New York" in spans and "York, NY" in spans and ", NY" in spans
    assert "New York, NY" not in spans  # four pieces, over the limit of three
    assert all(s in text for s in spans)


def test_ordered_items_follow_reading_order_and_start_on_words():
    text = "Ann saw Bob ."
    lang = _language(ordered_item_rules(text, open_="<", close='">"', sep=",", end="]"), "items")
    assert "]" in lang and "<Ann>]" in lang and "<Ann>,<Bob>]" in lang
    assert "<Bob>,<Ann>]" not in lang  # not in reading order
    assert "<Ann>,<Ann>]" not in lang  # no repeats
    assert "<.>]" not in lang and "<Bob .>]" not in lang  # no span starts or ends on a lone mark


def test_names_do_not_start_on_lower_case_function_words_but_titles_may():
    """Small chat models name "of", "is" and "by the ARTs"; a capitalised "The" opens titles ("The Wire")."""
    text = "The Wire is loved by the fans of Mulder"
    names = _language(ordered_item_rules(text, open_="<", close='">"', sep="", end="",
                                         max_pieces=3, unstartable=unstartable_words("ner")), "items")
    firsts = {item.split(">")[0] for item in names}
    assert "<The Wire" in firsts and "<Mulder" in firsts and "<fans of Mulder" in firsts
    assert not {"<is", "<by the", "<the fans", "<of Mulder", "<of"} & firsts
    triggers = _language(ordered_item_rules("The storm hit", open_="<", close='">"', sep="", end="",
                                            unstartable=unstartable_words("ed")), "items")
    assert "<storm>" in triggers and not any(t.startswith("<The") for t in triggers)
    assert unstartable_words("eae") == frozenset()  # "he" can be an event's agent


def test_free_spans_accept_json_escapes_and_forbidden_marks():
    from ieclid.grammar import free_span_rule

    json_rule = free_span_rule(json=True)
    assert json_rule.startswith("span ::= (") and "{1,120}" in json_rule
    assert free_span_rule(forbid=":;]") == r"span ::= [^:;\]\n\r]{1,120}"


def test_json_escape_matches_json_dumps():
    import json

    for s in ['a"b', "back\\slash", "tab\tnew\nline", "\x01", "é"]:
        assert '"' + json_string_escape(s) + '"' == json.dumps(s, ensure_ascii=False)


def test_every_profile_grammar_for_real_sentences_is_accepted_by_llama_cpp(backend, shared_data):
    profiles = [ChatJsonProfile(backend.format_chat, v) for v in (False, True)]
    profiles += [AdelieProfile(v) for v in (False, True)]
    ner, rel = load_schema("wnut17"), load_schema("semeval2010")
    texts = [d.text for d in read_conll(shared_data / "wnut17" / "test.conll")][:40]
    texts += ['He said "hi" \\ left\ttab', "", "!!!", "Ünïcödé 東京 😀"]
    for text in texts:
        for profile in profiles:
            backend.grammar_sampler(profile.grammar("ner", ner, text))
            backend.grammar_sampler(profile.grammar("re", rel, text))
    marked = "The <e1>child</e1> was carefully wrapped into the <e2>cradle</e2>."
    for profile in profiles:
        backend.grammar_sampler(profile.grammar("rc", rel, marked))


def test_an_invalid_grammar_is_an_error_not_a_crash(backend):
    with pytest.raises(IeclidError, match="invalid grammar"):
        backend.grammar_sampler("root ::= undefined-rule\n")


def test_chat_json_demonstration_answers_are_what_the_grammar_allows(backend, shared_data):
    """Demonstrations show the answer format the grammar enforces (free and verbatim spans)."""
    import numpy as np

    schema = load_schema("wnut17")
    docs = [d.example() for d in read_conll(shared_data / "wnut17" / "train_first2000.conll") if d.entities][:5]
    lc = backend.choice.lc
    for verbatim in (False, True):
        profile = ChatJsonProfile(backend.format_chat, verbatim)
        for doc in docs:
            answer = profile.answer("ner", schema, doc)
            sampler = backend.grammar_sampler(profile.grammar("ner", schema, doc.text))
            try:
                for token in backend.llm.tokenize(answer.encode(), add_bos=False, special=False):
                    assert backend.choice.forced_text(sampler) != (b"", True), answer
                    assert backend.choice.allowed(sampler, np.array([token]), np.zeros(1)).size, answer
                    lc.llama_sampler_accept(sampler, token)
                eos = np.array([backend.llm.token_eos()])
                assert backend.choice.allowed(sampler, eos, np.zeros(1)).size, answer
                assert backend.choice.forced_text(sampler) == (b"", True), answer  # it ends with the grammar
            finally:
                lc.llama_sampler_free(sampler)


def test_a_grammar_that_may_go_on_is_not_finished(backend):
    lc = backend.choice.lc
    sampler = backend.grammar_sampler('root ::= "[" ("a" ("," "a")*)? "]"\n')
    try:
        for text, finished in (("[", False), ("a", False), (",", False), ("a", False), ("]", True)):
            (token,) = backend.llm.tokenize(text.encode(), add_bos=False, special=False)
            lc.llama_sampler_accept(sampler, token)
            assert (backend.choice.forced_text(sampler) == (b"", True)) == finished, text
    finally:
        lc.llama_sampler_free(sampler)


@pytest.mark.parametrize("grammar", ['root ::= [A-Za-z ]+\n', 'root ::= "zebra" | "0"\n'])
def test_the_greedy_choice_is_the_best_token_the_grammar_allows(backend, grammar):
    """Whether or not the model's own first choice is allowed (the fast path checks it alone),
    the choice is what ranking the whole vocabulary under the grammar gives."""
    import numpy as np

    backend._evaluate_prompt(backend.llm.tokenize(backend.format_chat(
        [{"role": "user", "content": "Name an animal."}]).encode(), add_bos=True, special=True))
    logits = backend.last_logits().copy()
    sampler = backend.grammar_sampler(grammar)
    try:
        allowed = backend.choice.allowed(sampler, np.arange(len(logits)), logits)
        best = int(allowed[np.argmax(logits[allowed])])
        assert (best == int(np.argmax(logits))) == (grammar.startswith("root ::= [A"))
        assert backend.choice.choose(logits, sampler, 0.0) == best
    finally:
        backend.choice.lc.llama_sampler_free(sampler)
