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


def _fill(builder: RecordBuilder, chunk: int) -> None:
    """What extraction adds for chunk 0 or 1 of 'Ann met Bob in Rome. Bob left Rome.': items of
    every kind, and in chunk 1 an entity, an event and a warning chunk 0 has too."""
    if chunk == 0:
        ann = builder.add_entity("person", "Ann", 0, 3, "exact", 0.4)
        bob = builder.add_entity("person", "Bob", 8, 11, "exact", None)
        met = builder.add_entity("meet", "met", 4, 7, "exact", 0.8)
        event = builder.add_event("meet", met, 0.8)
        builder.add_argument(event, "who", ann, 0.5)
        builder.add_relation("knows", ann, bob, 0.6)
        builder.add_tuple({"predicate": met, "subject": ann, "object": bob, "time": None, "location": None}, 0.7)
        builder.warn("answer cut off")
    else:
        bob = builder.add_entity("person", "Bob", 8, 11, "exact", 0.9)  # also in chunk 0
        left = builder.add_entity("leave", "left", 25, 29, "exact", None)
        rome = builder.add_entity("place", "rome", 30, 34, "fuzzy", 0.3)
        builder.add_entity("person", "Carl", None, None, "unplaced", None)
        event = builder.add_event("leave", left, None)
        builder.add_argument(event, "who", bob, 0.5)
        builder.add_relation("in", bob, rome, None)
        builder.add_tuple({"predicate": left, "subject": bob, "object": rome, "time": None, "location": None}, None)
        builder.warn("answer cut off")
        builder.warn("the model repeated itself")
    builder.prompt_tokens += 10 + chunk
    builder.completion_tokens += 3


def test_chunks_filled_apart_and_absorbed_make_the_same_record():
    """A long document's chunks are extracted at once, each into a builder of its own, and then
    absorbed in order: the record is the one filling a single builder chunk by chunk gives."""
    text = "Ann met Bob in Rome. Bob left Rome."
    for task in ("ner", "re", "ee", "openie"):
        whole = RecordBuilder("d", task, "s", "m", "p", text)
        _fill(whole, 0)
        _fill(whole, 1)
        absorbed = RecordBuilder("d", task, "s", "m", "p", text)
        for chunk in (0, 1):
            part = RecordBuilder("d", task, "s", "m", "p", text)
            _fill(part, chunk)
            absorbed.absorb(part)
        assert absorbed.build(0) == whole.build(0)
    assert whole.build(0)["entities"][2] == {"id": "T3", "label": "person", "text": "Bob", "start": 8, "end": 11,
                                              "status": "exact", "score": 0.9}


def test_propagation_labels_every_other_occurrence_and_marks_it():
    text = "Apple hired Mbappe. Apple's shares rose; Mbappe smiled. Pineapple and Paris Apple Store. A and A."
    b = RecordBuilder("d", "ner", "s", "m", "p", text)
    b.add_entity("organization", "Apple", 0, 5, "exact", 0.9)
    b.add_entity("person", "Mbappe", 12, 18, "exact", None)
    store = text.index("Paris Apple Store")
    b.add_entity("location", "Paris Apple Store", store, store + 17, "exact", None)
    b.add_entity("misc", "A", text.index("A and"), text.index("A and") + 1, "exact", None)
    assert b.propagate() == 2
    entities = b.build(0)["entities"]
    found = [(e["text"], e["start"], e.get("propagated", False)) for e in entities]
    assert ("Apple", text.index("Apple's"), True) in found  # before a possessive
    assert ("Mbappe", text.index("Mbappe smiled"), True) in found
    # Not inside a word (Pineapple), not inside another entity, not single characters.
    assert [f for f in found if f[0] == "Apple"] == [("Apple", 0, False), ("Apple", text.index("Apple's"), True)]
    assert sum(1 for f in found if f[0] == "A") == 1


def test_propagation_reaches_names_run_on_into_words_of_unspaced_scripts():
    text = "AppleはiPhoneを作った。Appleの株が上がった。Pineapple。"
    b = RecordBuilder("d", "ner", "s", "m", "p", text)
    b.add_entity("organization", "Apple", 0, 5, "exact", None)
    assert b.propagate() == 1  # the second Apple (before の), not the one inside Pineapple
    assert [e["start"] for e in b.build(0)["entities"]] == [0, text.index("Appleの")]


def test_propagation_spreads_names_only():
    text = "The soldiers met the press. The soldiers left, and the press stayed. THE END, THE END."
    b = RecordBuilder("d", "ner", "s", "m", "p", text)
    b.add_entity("group", "soldiers", 4, 12, "exact", None)  # not a name: lower case
    b.add_entity("person", "the", 17, 20, "exact", None)
    end = text.index("THE END")
    b.add_entity("misc", "THE", end, end + 3, "exact", None)  # a common word in capitals
    assert b.propagate(frozenset({"the"})) == 0


def test_propagation_leaves_texts_with_two_labels_alone():
    text = "Jordan visited Jordan."
    b = RecordBuilder("d", "ner", "s", "m", "p", text)
    b.add_entity("person", "Jordan", 0, 6, "exact", None)
    b.add_entity("location", "Jordan", 15, 21, "exact", None)
    assert b.propagate() == 0


def test_fields_are_written_in_a_fixed_order():
    """jq users and diffs of two runs see the same layout: the task's fields sit between
    entities and warnings."""
    builder = RecordBuilder("d", "ere", "matres", "m", "chat-json", "It rained, then it flooded.")
    rained = builder.add_event("event", builder.add_entity("event", "rained", 3, 9, "exact", None), None)
    flooded = builder.add_event("event", builder.add_entity("event", "flooded", 19, 26, "exact", None), None)
    builder.add_relation("BEFORE", rained, flooded, None)
    assert list(builder.build(0.0)) == [
        "id", "task", "schema", "model", "profile", "text", "entities", "events", "relations", "warnings", "usage"]


def test_a_very_unsure_item_keeps_a_score_above_zero():
    builder = RecordBuilder("d", "ner", "s", "m", "p", "Ann met Bob.")
    builder.add_entity("person", "Ann", 0, 3, "exact", 0.000031416)
    builder.add_entity("person", "Bob", 8, 11, "exact", 0.987654)
    scores = [e["score"] for e in builder.build(0)["entities"]]
    assert scores == [3.142e-05, 0.9877]
