"""Closed-IE exact-match scores against hand-computed cases."""

import pytest

from ieclid.evaluation.spans import SpanScores


def scores(*docs):
    s = SpanScores()
    for gold, pred in docs:
        s.add(gold, pred)
    return s


def test_exact_hits_partial_overlaps_and_wrong_labels():
    gold = [(0, 5, "person"), (10, 16, "location"), (20, 25, "organization")]
    pred = [
        (0, 5, "person"),  # hit
        (10, 14, "location"),  # partial overlap: a miss and a false positive
        (20, 25, "location"),  # right span, wrong label
    ]
    s = scores((gold, pred))
    assert (s.overall.tp, s.overall.n_pred, s.overall.n_gold) == (1, 3, 3)
    assert s.overall.f1 == pytest.approx(1 / 3)
    assert s.per_label["location"].n_pred == 2 and s.per_label["location"].tp == 0
    assert s.per_label["organization"].recall == 0.0
    # Where the errors went: a team tagged as a place, a place found with the wrong end.
    assert s.as_dict()["confusion"] == {
        "(spurious)": {"location": 1}, "location": {"(missed)": 1}, "organization": {"location": 1}
    }


def test_duplicates_count_once_and_empty_sides():
    s = scores(([(0, 3, "x")], [(0, 3, "x"), (0, 3, "x")]))
    assert (s.overall.tp, s.overall.n_pred) == (1, 1)
    empty_pred = scores(([(0, 3, "x")], []))
    assert empty_pred.overall.precision == 0.0 and empty_pred.overall.f1 == 0.0
    nothing = scores(([], []))
    assert nothing.overall.f1 == 0.0 and nothing.as_dict()["per_label"] == {}


def test_micro_averaging_over_documents():
    s = scores(
        ([(0, 1, "a")], [(0, 1, "a")]),
        ([(0, 1, "a"), (2, 3, "b")], [(0, 1, "b")]),
    )
    assert (s.overall.tp, s.overall.n_pred, s.overall.n_gold) == (1, 2, 3)
    assert s.overall.precision == 0.5 and s.overall.recall == pytest.approx(1 / 3)
    assert s.overall.f1 == pytest.approx(0.4)
