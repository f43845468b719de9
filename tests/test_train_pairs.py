"""IEFeedback pairs: ADELIE's character BLEU and its online/offline mixing rules."""

import pytest

pytest.importorskip("nltk", reason="the train extra is not installed")

from ieclid.training.pairs import bleu, mix_pairs, sample_all, score_samples

GOLD = "[Answer]: Paris: location; Ann: person; "


def test_bleu_is_adelies_character_bleu_of_the_answer_part():
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    sample = "[Answer]: Paris: location; "
    expected = sentence_bleu([list("Paris: location; Ann: person; ")], list("Paris: location; "),
                             smoothing_function=SmoothingFunction().method3)
    assert bleu(GOLD, sample) == pytest.approx(expected)
    assert bleu(GOLD, GOLD) == pytest.approx(1.0)
    assert bleu(GOLD, "Paris is a location.") == -1.0  # no [Answer]: the sample cannot be read
    assert bleu(GOLD, "[Answer]: ") == 0.0
    assert 0 < bleu("Paris: location", "Paris: place") < 1  # answers without the marker: whole text


def _item(prompt: str, samples: list[str]):
    return score_samples([{"role": "user", "content": prompt}], GOLD, samples)


def test_online_pairs_fill_their_share_then_gold_pairs_the_rest():
    scored = [_item(f"p{i}", [GOLD, "[Answer]: Paris: location; ", "nothing"]) for i in range(10)]
    pairs, online = mix_pairs(scored, cap=10, seed=1)
    assert online == 3 and len(pairs) == 10
    for pair in pairs[:online]:  # best sample (here the gold text, sampled) vs worst
        assert pair["chosen"][0]["content"] == GOLD and pair["rejected"][0]["content"] == "nothing"
    assert {p["prompt"][0]["content"] for p in pairs} == {f"p{i}" for i in range(10)}  # no prompt twice
    assert pairs[0]["chosen"][0]["role"] == "assistant" and pairs[0]["prompt"][0]["role"] == "user"


def test_pairs_within_the_gap_are_dropped():
    close = _item("close", [GOLD, GOLD])  # best == worst == gold: no online pair, no offline pair
    pairs, online = mix_pairs([close], cap=10)
    assert pairs == [] and online == 0
    near = _item("near", [GOLD + "x", GOLD.rstrip()])  # both within 0.1 of the gold: nothing to learn
    assert mix_pairs([near], cap=10) == ([], 0)
    half = _item("half", ["[Answer]: Paris: location; ", "[Answer]: Paris: location;"])
    pairs, online = mix_pairs([half], cap=10)
    assert online == 0  # the samples are within 0.1 of each other ...
    assert [p["chosen"][0]["content"] for p in pairs] == [GOLD]  # ... but the gold is well above the worst


def test_sampling_scores_every_sample_against_the_last_turn():
    chats = [[{"role": "user", "content": "q"}, {"role": "assistant", "content": GOLD}]]
    answers = iter([GOLD, "[Answer]: Ann: person; "])
    seen = []

    def complete(prompt, gold):
        seen.append((prompt, gold))
        return next(answers)

    [item] = sample_all(chats, complete, 2)
    assert seen == [([{"role": "user", "content": "q"}], GOLD)] * 2
    assert item.samples[0] == (GOLD, pytest.approx(1.0)) and 0 < item.samples[1][1] < 1
