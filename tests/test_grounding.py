from ieclid.grounding import Grounder


def test_exact_match_and_repeated_mentions_take_successive_occurrences():
    text = "Paris is big. I love Paris. Paris!"
    g = Grounder(text)
    spans = [g.place("Paris") for _ in range(3)]
    assert [(p.start, p.end, p.status) for p in spans] == [(0, 5, "exact"), (21, 26, "exact"), (28, 33, "exact")]
    # a fourth mention that does not exist reuses the first rather than failing
    assert g.place("Paris").start == 0


def test_reading_order_is_preferred_after_the_last_placed_item():
    g = Grounder("Ann met Bob and Ann again")
    assert g.place("Bob").start == 8
    assert g.place("Ann").start == 16


def test_case_and_whitespace_differences_are_fuzzy_with_document_offsets():
    text = "We visited  New\nYork City yesterday."
    p = Grounder(text).place("new york city")
    assert p.status == "fuzzy" and text[p.start : p.end] == "New\nYork City"


def test_non_ascii_text_offsets_are_python_indices():
    text = "Der Bürgermeister von München traf 東京 Gäste 😀 in Straße."
    g = Grounder(text)
    for needle in ("München", "東京", "Straße"):
        p = g.place(needle)
        assert text[p.start : p.end] == needle and p.status == "exact"
    p = Grounder(text).place("STRASSE")  # casefold maps ß to ss
    assert p.status == "fuzzy" and text[p.start : p.end] == "Straße"


def test_fuzzy_typos_snap_to_words_and_garbage_is_unplaced():
    text = "The Massachusetts Institute of Technology is in Cambridge."
    p = Grounder(text).place("Massachusets Institute of Technolgy")
    assert p.status == "fuzzy"
    assert text[p.start : p.end] == "Massachusetts Institute of Technology"
    assert Grounder(text).place("Banana Republic").status == "unplaced"
    assert Grounder(text).place("   ").status == "unplaced"


def test_a_fuzzy_window_widened_to_whole_words_must_still_match():
    # "oso" inside "Microsoft" is close to "Oslo", the whole word is not.
    assert Grounder("Microsoft announced a lab").place("Oslo").status == "unplaced"


def test_an_occurrence_inside_a_word_is_no_place_for_a_name():
    """Small models name "granada" inside a URL or "US" inside "USB": never a reader's name."""
    text = "USB sticks from the US, see reddit.com/r/soccer/real_madrid_granada_highlights"
    p = Grounder(text).place("US")
    assert (p.start, p.end, p.status) == (20, 22, "exact")  # the whole word, not USB's
    assert Grounder(text).place("granada").status == "unplaced"
    assert Grounder(text).place("soccer").status == "exact"  # between slashes: a whole word
    p = Grounder("Apple's iPhone7 sold").place("iPhone")  # only inside a word: widened, fuzzy
    assert p.status == "fuzzy" and (p.start, p.end) == (8, 15)
    japanese = "東京都に住む"
    p = Grounder(japanese).place("東京")  # unspaced scripts run names into their neighbours
    assert p.status == "exact" and japanese[p.start : p.end] == "東京"
    korean = "서울에서 일한다"
    assert Grounder(korean).place("서울").status == "exact"
