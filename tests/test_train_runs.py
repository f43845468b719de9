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


@pytest.mark.parametrize(("content", "message"), [
    (b"", "no training examples"),
    (b"\n\n", "no training examples"),
    (BINARY, "not JSON Lines (UnicodeDecodeError)"),
    (b"messages\n", "not JSON Lines (JSONDecodeError)"),
    (b'{"text": "Ann met Bob."}\n', "line 1: not a training example (an object with messages)"),
])
def test_training_data_that_is_no_examples_is_refused_in_one_line(tmp_path, content, message):
    data = tmp_path / "data.jsonl"
    data.write_bytes(content)
    run = tmp_path / "run"
    assert_one_line_error(ieclid("train", "sft", "--data", str(data), "--out", str(run)), 2, message)
    assert not run.exists()


def _cpu_with_bf16(monkeypatch, native: bool) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: native, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)


@pytest.mark.parametrize("native", [True, False])
def test_bf16_is_the_default_only_where_the_cpu_computes_it(monkeypatch, native):
    from ieclid.training.runs import precision

    _cpu_with_bf16(monkeypatch, native)
    assert precision({}) == ({"bf16": True, "use_cpu": True} if native else {"bf16": False})
    assert precision({"bf16": False}) == {"bf16": False}


def test_bf16_asked_for_where_it_is_emulated_is_refused_before_the_run_starts(monkeypatch, tmp_path):
    from ieclid.errors import UsageError
    from ieclid.training.runs import precision, start

    _cpu_with_bf16(monkeypatch, False)
    data = tmp_path / "data.jsonl"
    data.write_text('{"messages": []}\n')
    with pytest.raises(UsageError, match="does not compute it natively: give --fp32"):
        start(tmp_path / "run", {"bf16": True}, {"data": str(data)}, resume=False, keys=("messages",))
    assert not (tmp_path / "run").exists()
    _cpu_with_bf16(monkeypatch, True)
    assert precision({"bf16": True}) == {"bf16": True, "use_cpu": True}


def test_activations_are_kept_on_a_cpu_only_where_they_fit(monkeypatch, tmp_path):
    import json

    import torch

    from ieclid.training.runs import checkpointing

    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"num_hidden_layers": 30, "hidden_size": 576}))
    small = {"per_device_train_batch_size": 1, "max_length": 1024}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    pages = {"SC_AVPHYS_PAGES": 4_000_000, "SC_PAGE_SIZE": 4096}  # 16 GB free
    monkeypatch.setattr("ieclid.training.runs.os.sysconf", pages.__getitem__)
    assert checkpointing(small, str(model)) == {"activation_checkpointing": False}
    assert checkpointing({**small, "per_device_train_batch_size": 10**6}, str(model)) == {}
    assert checkpointing({**small, "gradient_checkpointing": True}, str(model)) == {}  # the recipe's
    assert checkpointing(small, str(tmp_path / "elsewhere")) == {}  # no config: TRL's default
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert checkpointing(small, str(model)) == {}
