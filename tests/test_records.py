from ieclid.records import RecordBuilder


def test_duplicates_merge_and_ids_follow_reading_order():
    b = RecordBuilder("d", "re", "s", "m", "p", "Ann met Bob in Rome.")
    bob = b.add_entity("entity", "Bob", 8, 11, "exact", 0.5)
    ann = b.add_entity("entity", "Ann", 0, 3, "exact", None)
    assert b.add_entity("entity", "Bob", 8, 11, "exact", 0.9) == bob
    b.add_entity("entity", "Oslo", None, None, "unplaced", None)
    b.add_relation("met", ann, bob, 0.7)
    b.add_relation("met", ann, bob, 0.7)
    record = b.build(0.1)
    assert [(e["id"], e["text"]) for e in record["entities"]] == [("T1", "Ann"), ("T2", "Bob"), ("T3", "Oslo")]
    assert record["entities"][1]["score"] == 0.9
    assert record["relations"] == [{"id": "R1", "label": "met", "head": "T1", "tail": "T2", "score": 0.7}]
    assert record["entities"][2]["start"] is None and record["entities"][2]["status"] == "unplaced"


def test_fuzzy_entities_keep_the_model_text():
    b = RecordBuilder("d", "ner", "s", "m", "p", "new york")
    b.add_entity("location", "New York", 0, 8, "fuzzy", None)
    (entity,) = b.build(0)["entities"]
    assert entity["text"] == "new york" and entity["model_text"] == "New York"
