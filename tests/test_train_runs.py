"""A run's settings.yaml and a recipe file that cannot be read give one line and exit 2 from every
`ieclid train` command that reads them, not an internal error."""

import pytest
from test_cli import assert_one_line_error, ieclid

pytest.importorskip("trl", reason="the train extra is not installed")

BINARY = bytes(range(128, 256)) * 2


@pytest.mark.parametrize(("content", "message"), [
    (BINARY, "not readable as the settings of an 'ieclid train' run (UnicodeDecodeError)"),
    (b"base: [smollm2\n", "not readable as the settings of an 'ieclid train' run (ParserError)"),
    (b"- smollm2\n", "not the settings of an 'ieclid train' run (a YAML mapping"),
    (b"", "names no base: not written by 'ieclid train'"),
])
def test_a_broken_run_is_refused_in_one_line(tmp_path, content, message):
    run = tmp_path / "run"
    (run / "final").mkdir(parents=True)
    (run / "settings.yaml").write_bytes(content)
    assert_one_line_error(ieclid("train", "export", "--run", str(run), "--blend", "0.5"), 2, message)
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("{}\n")
    assert_one_line_error(ieclid("train", "dpo", "--pairs", str(pairs), "--sft", str(run), "--out",
                                 str(tmp_path / "dpo")), 2, message)
    assert not (tmp_path / "dpo").exists()


def test_a_binary_recipe_file_is_refused_in_one_line(tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_bytes(BINARY)
    data = tmp_path / "data.jsonl"
    data.write_text("{}\n")
    assert_one_line_error(ieclid("train", "sft", "--data", str(data), "--config", str(recipe), "--out",
                                 str(tmp_path / "run")), 2, "not readable as training settings (UnicodeDecodeError)")
