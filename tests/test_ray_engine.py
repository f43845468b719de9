"""`--engine ray`: two actors on a local Ray give the records of a local run, in input order."""

import orjson
import pytest
from test_cli import assert_one_line_error, ieclid

pytest.importorskip("ray.data", reason="Ray is the optional `ray` extra")
pytestmark = pytest.mark.slow

SENTENCES = [
    "Angela Merkel met Emmanuel Macron in Paris on Monday.",
    "Apple opened a new office in Berlin.",
    "The Rolling Stones played at Wembley Stadium in London.",
    "Maria Keller joined ETH Zurich as a professor.",
    "Microsoft bought GitHub for 7.5 billion dollars.",
    "Lionel Messi scored twice for Inter Miami in Florida.",
]


def comparable(text: str) -> list[dict]:
    """Records without their timings, which differ from run to run."""
    return [{k: v for k, v in orjson.loads(line).items() if k != "usage"} for line in text.splitlines()]


def test_two_actors_give_the_local_runs_records(tmp_path):
    lines = tmp_path / "news.txt"
    lines.write_text("\n".join(SENTENCES * 4) + "\n")
    (tmp_path / "docs").mkdir()
    for number, sentence in enumerate(SENTENCES):
        (tmp_path / "docs" / f"{number:02d}.txt").write_text(sentence + "\n")
    for inputs in (["--lines", str(lines)], [str(tmp_path / "docs")]):
        local = ieclid("extract", "-q", *inputs)
        assert local.returncode == 0, local.stderr
        out = tmp_path / "ray.jsonl"
        ray = ieclid("extract", "-q", "--engine", "ray", "--actors", "2", "-o", str(out), "--overwrite", *inputs)
        assert ray.returncode == 0, ray.stderr
        assert comparable(out.read_text()) == comparable(local.stdout)
    assert len(comparable(out.read_text())) == len(SENTENCES)


def test_a_resumed_ray_run_extracts_only_what_is_not_done(tmp_path):
    text = tmp_path / "news.txt"
    text.write_text("\n".join(SENTENCES[:3]) + "\n")
    out = tmp_path / "out.jsonl"
    first = ieclid("extract", "-q", "--lines", "--engine", "ray", "--actors", "1", "-o", str(out), str(text))
    assert first.returncode == 0, first.stderr
    text.write_text("\n".join(SENTENCES) + "\n")  # three more lines since
    resumed = ieclid("extract", "-q", "--lines", "--engine", "ray", "--actors", "1", "--resume", "-o", str(out),
                     str(text))
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming: 3 documents done" in resumed.stderr
    local = ieclid("extract", "-q", "--lines", str(text))
    assert comparable(out.read_text()) == comparable(local.stdout)


def test_ray_options_are_checked_before_anything_starts(tmp_path):
    text = tmp_path / "a.txt"
    text.write_text("Anna flew to Paris.\n")
    assert_one_line_error(ieclid("extract", "--actors", "2", str(text)), 2, "are for --engine ray")
    assert_one_line_error(ieclid("extract", "--engine", "ray", "--actors", "0", str(text)), 2,
                          "--actors must be at least 1")
    assert_one_line_error(ieclid("extract", "--engine", "ray", "--ray-address", "127.0.0.1:1", str(text)), 1,
                          "no Ray cluster answers at 127.0.0.1:1")
