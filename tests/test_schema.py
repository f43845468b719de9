from pathlib import Path

import pytest

from ieclid.errors import UsageError
from ieclid.schema import builtin_schemas, load_schema, schema_from_labels


def test_builtin_schemas_load_with_descriptions():
    names = set(builtin_schemas())
    expected = {"conll2003", "wnut17", "semeval2010"} | {
        f"crossner_{d}" for d in ("ai", "literature", "music", "politics", "science")
    }
    assert expected <= names
    for name in names:
        schema = load_schema(name)
        assert all(label.description for label in schema.entities + schema.relations)
    semeval = load_schema("semeval2010")
    assert semeval.none_label == "Other" and len(semeval.relations) == 9
    assert semeval.relation("Component-Whole").verbalise(reverse=True) == "Whole and Component"


def test_crossner_schemas_cover_the_data_labels(shared_data):
    from ieclid.datasets import read_conll

    for domain in ("ai", "literature", "music", "politics", "science"):
        labels = {e[2] for d in read_conll(shared_data / "crossner" / domain / "test.txt") for e in d.entities}
        assert labels <= set(load_schema(f"crossner_{domain}").entity_names), domain


def test_schema_errors_are_usage_errors(tmp_path: Path):
    with pytest.raises(UsageError, match="unknown schema 'nope'"):
        load_schema("nope")
    with pytest.raises(UsageError, match="schema file not found"):
        load_schema(str(tmp_path / "missing.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("entities:\n  person: [unclosed\n")
    with pytest.raises(UsageError, match=r"bad.yaml:\d+: invalid YAML"):
        load_schema(str(bad))
    empty = tmp_path / "empty.yaml"
    empty.write_text("name: x\n")
    with pytest.raises(UsageError, match="defines no entity, relation or event labels"):
        load_schema(str(empty))
    with pytest.raises(UsageError, match="duplicate"):
        schema_from_labels("a,a", "entities")
    turned = tmp_path / "turned.yaml"
    turned.write_text("relations:\n  part of:\n    inverse_aliases: has part\n")
    with pytest.raises(UsageError, match="part of: inverse_aliases must be a list of names"):
        load_schema(str(turned))


def test_relation_aliases_say_which_way_round_a_data_sets_name_runs():
    general = load_schema("general")
    part_of = general.relation("part of")
    assert "parent organization" in part_of.aliases and "subsidiary" in part_of.inverse_aliases
    assert general.relation("works for").aliases == ("employer",)
    # without roles the order of the ends says the direction; with roles the wording does
    assert part_of.ends("Alphabet", "Google", reverse=True) == ("Google", "Alphabet")
    whole = load_schema("semeval2010").relation("Component-Whole")
    assert whole.ends("a wheel", "a car", reverse=True) == ("a wheel", "a car")


def test_user_schema_file_and_labels(tmp_path: Path):
    path = tmp_path / "drugs.yaml"
    path.write_text("name: drugs\nentities:\n  drug: A medicine.\n  dose:\n    description: An amount.\n")
    schema = load_schema(str(path))
    assert schema.entity_names == ["drug", "dose"] and schema.entities[1].description == "An amount."
    assert schema_from_labels(" person, place ", "entities").entity_names == ["person", "place"]


def test_multiconer_schema_names_every_tag_once(shared_data):
    from ieclid.datasets import read_conll
    from ieclid.demos import demo_labels

    docs = list(read_conll(shared_data / "multiconer2_en" / "en-dev.conll"))
    labels = demo_labels(docs, "ner", load_schema("multiconer2"))
    assert not labels.unknown and len(labels.mapping) == 33
    assert len(set(labels.mapping.values())) == 33
    assert labels.mapping["OtherPER"] == "person" and labels.mapping["Medication/Vaccine"] == "medication"
