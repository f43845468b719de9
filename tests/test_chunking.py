import itertools

from ieclid.chunking import approx_tokens, chunk_text, split_sentences
from ieclid.datasets import read_conll


def test_sentences_cover_the_text_and_map_back():
    text = 'He said "Stop." Then he left!\nNew line here.   Trailing'
    spans = split_sentences(text)
    assert [text[a:b] for a, b in spans] == ['He said "Stop."', "Then he left!", "New line here.", "Trailing"]


def test_chunks_respect_the_budget_and_never_drop_text(shared_data):
    sentences = [d.text for d in read_conll(shared_data / "crossner" / "politics" / "test.txt")][:120]
    text = " ".join(sentences)
    chunks, warnings = chunk_text(text, 128)
    assert not warnings
    assert all(approx_tokens(c.text) <= 128 for c in chunks)
    assert all(text[c.start : c.end] == c.text for c in chunks)
    covered = "".join(text[c.start : c.end] for c in chunks).replace(" ", "")
    assert covered == text.replace(" ", "")
    assert len(chunks) > 10


def test_a_sentence_over_the_budget_is_split_with_a_warning():
    text = "word " * 300 + "end."
    chunks, warnings = chunk_text(text, 50)
    assert len(warnings) == 1 and "split into" in warnings[0]
    assert all(approx_tokens(c.text) <= 50 for c in chunks)
    assert "".join(c.text for c in chunks).replace(" ", "") == text.replace(" ", "")


def test_a_giant_word_is_cut_by_characters():
    text = "x" * 1000
    chunks, warnings = chunk_text(text, 20)
    assert warnings and "".join(c.text for c in chunks) == text
    assert all(approx_tokens(c.text) <= 20 for c in chunks)


def test_overlap_repeats_the_last_sentence():
    text = "One two three. Four five six. Seven eight nine. Ten eleven twelve."
    chunks, _ = chunk_text(text, 10, overlap=1)
    assert len(chunks) >= 3
    for prev, nxt in itertools.pairwise(chunks):
        assert nxt.start < prev.end  # the next chunk starts inside the previous one


def test_empty_text_has_no_chunks():
    assert chunk_text("  \n ", 100) == ([], [])


def test_chunks_hold_at_most_the_sentences_asked_for():
    text = "Ann Lee met Dr. Bo Chan in Oslo. Microsoft opened an office in Zurich! Was it new? Yes."
    chunks, _ = chunk_text(text, 256, max_sentences=1)
    assert [c.text for c in chunks] == [
        "Ann Lee met Dr. Bo Chan in Oslo.", "Microsoft opened an office in Zurich!", "Was it new?", "Yes."
    ]
    chunks, _ = chunk_text(text, 256, max_sentences=2)
    assert [c.text for c in chunks] == [
        "Ann Lee met Dr. Bo Chan in Oslo. Microsoft opened an office in Zurich!", "Was it new? Yes."
    ]
    assert len(chunk_text(text, 256, max_sentences=0)[0]) == 1


def test_abbreviations_and_initials_do_not_end_sentences():
    text = "Mr. J. R. Smith of the U.S. Army arrived. He left St. Louis at 5 p.m. on Monday."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "Mr. J. R. Smith of the U.S. Army arrived.", "He left St. Louis at 5 p.m. on Monday."
    ]
