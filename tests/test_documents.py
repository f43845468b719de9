from pathlib import Path

import pytest

from ieclid.documents import decode_text, read_documents, resolve_inputs
from ieclid.errors import UsageError


def test_directories_are_searched_recursively_sorted_and_hidden_entries_skipped(tmp_path: Path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "b" / "two.txt").write_text("two")
    (tmp_path / "one.txt").write_text("one")
    (tmp_path / "notes.md").write_text("md")
    (tmp_path / "Page.HTML").write_text("<p>page</p>")
    (tmp_path / "data.csv").write_text("a,b")
    (tmp_path / "photo.png").write_bytes(b"\x89PNG")
    (tmp_path / ".hidden" / "x.txt").write_text("x")
    found = resolve_inputs([str(tmp_path)])
    assert found == [str(tmp_path / name) for name in ("Page.HTML", "b/two.txt", "notes.md", "one.txt")]
    assert resolve_inputs([str(tmp_path)], glob="*.md") == [str(tmp_path / "notes.md")]
    assert resolve_inputs([str(tmp_path)], glob="*.csv") == [str(tmp_path / "data.csv")]


def test_missing_input_is_a_usage_error(tmp_path: Path):
    with pytest.raises(UsageError, match="input not found"):
        resolve_inputs([str(tmp_path / "nope.txt")])
    with pytest.raises(UsageError):
        resolve_inputs([])


def test_binary_and_undecodable_files_become_error_documents():
    assert "binary" in decode_text(b"abc\x00def", "f.bin").error
    bad = decode_text("café".encode("latin-1"), "f.txt")
    assert bad.error == "f.txt: not valid UTF-8 at byte 3"
    assert decode_text("\ufeffhello".encode(), "bom.txt").text == "hello"


def test_an_empty_file_is_an_error_document():
    for data in (b"", b" \n\t\n", "\ufeff".encode()):
        assert decode_text(data, "e.txt").error == "e.txt: empty, no text to extract from"


def test_lines_mode_numbers_lines_and_skips_blank_ones(tmp_path: Path):
    path = tmp_path / "l.txt"
    path.write_text("first\n\nthird\r\n")
    docs = list(read_documents([str(path)], lines=True))
    assert [(d.id, d.text) for d in docs] == [(f"{path}:1", "first"), (f"{path}:3", "third")]


def test_unreadable_file_is_an_error_document(tmp_path: Path):
    docs = list(read_documents([str(tmp_path)]))  # a directory cannot be read as a file
    assert docs[0].error and "cannot read" in docs[0].error
