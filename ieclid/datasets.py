"""Readers for annotated data: ieclid records, CoNLL/BIO, SemEval-2010 Task 8, PHEE events,
CaRB open IE gold, FewRel relation instances, DocRED relations and OneIE events (GENEVA).

They feed few-shot demonstrations (`--demos`) and, later, evaluation. Every reader
yields `Annotated` documents with character offsets into a plain text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from ieclid.errors import UsageError
from ieclid.evaluation import carb
from ieclid.schema import Schema, load_schema, natural_name
from ieclid.tasks import Example
from ieclid.tasks.markers import mark
from ieclid.tasks.tables import parse_table

_SEMEVAL_LINE = re.compile(r'^(\d+)\t"(.*)"\s*$')
_SEMEVAL_LABEL = re.compile(r"^([A-Za-z]+-[A-Za-z]+)\((e[12]),(e[12])\)$")


@dataclass(frozen=True)
class GoldEvent:
    """An event: trigger span and type, and arguments as (start, end, role)."""

    start: int
    end: int
    label: str
    arguments: tuple[tuple[int, int, str], ...] = ()


@dataclass
class Annotated:
    """Gold annotation of one text. For rc, `text` keeps the <e1>/<e2> markers."""

    id: str
    text: str
    entities: list[tuple[int, int, str]] = field(default_factory=list)
    triples: list[tuple[int, int, str]] = field(default_factory=list)  # head idx, tail idx, label
    choice: tuple[str | None, bool] | None = None  # rc: relation (None = none) and reversed
    events: list[GoldEvent] = field(default_factory=list)
    tuples: list[tuple[str, ...]] = field(default_factory=list)  # open IE: predicate, subject, ...
    table: dict | None = None  # on-demand IE: {"columns": [...], "rows": [[...]]}

    def example(self) -> Example:
        spans = [self.text[s:e] for s, e, _ in self.entities]
        return Example(
            text=self.text,
            mentions=tuple((self.text[s:e], label) for s, e, label in self.entities),
            triples=tuple((spans[h], label, spans[t]) for h, t, label in self.triples),
            choice=self.choice,
            tuples=tuple(self.tuples),
        )

    def examples(self, task: str) -> list[Example]:
        """Demonstrations for a task: ed shows triggers, eae one example per marked event."""
        if task == "ed":
            triggers = tuple((self.text[e.start : e.end], e.label) for e in self.events)
            return [Example(self.text, mentions=triggers)] if self.events else []
        if task == "eae":
            return [
                Example(
                    mark(self.text, {"event": (e.start, e.end)}),
                    mentions=tuple((self.text[s:t], role) for s, t, role in e.arguments),
                )
                for e in self.events
            ]
        return [self.example()]


_TAG = re.compile(r"O|[BIESLU]-\S+")


def _conll_fields(line: str) -> list[str]:
    """A CoNLL line's columns: tab-separated where it has tabs, else space-separated."""
    return line.split("\t") if "\t" in line else line.split()


def _tagged(line: str) -> bool:
    """Whether a line is `token ... tag`: 2 to 4 or more columns, a BIO-style tag last."""
    fields = _conll_fields(line.strip())
    return len(fields) >= 2 and bool(_TAG.fullmatch(fields[-1].strip()))


def _is_conll_skip(line: str) -> bool:
    """Document separators (`-DOCSTART- -X- -X- O`) and comments (`# id ... domain=en`)."""
    return line.startswith("-DOCSTART-") or (line.startswith("#") and not _tagged(line))


def read_conll(path: Path) -> Iterator[Annotated]:
    """CoNLL files in their common layouts: `token tag`, `token POS chunk tag` (CoNLL-2003) or
    `token _ _ tag`, tab- or space-separated, the tag last, in IOB1, IOB2 or BIOES/BILOU; a blank
    line ends a sentence, and `-DOCSTART-` lines and `#` comments are skipped. Tokens are joined
    by single spaces."""
    tokens: list[tuple[str, str]] = []
    number = 0
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\r\n")
            if line.strip() and not _is_conll_skip(line):
                parts = _conll_fields(line)
                tokens.append((parts[0], parts[-1].strip() if len(parts) > 1 else "O"))
                continue
            if tokens:
                number += 1
                yield _bio_document(f"{path.name}:{number}", tokens)
                tokens = []
    if tokens:
        yield _bio_document(f"{path.name}:{number + 1}", tokens)


def _bio_document(doc_id: str, tokens: list[tuple[str, str]]) -> Annotated:
    """Entities from tags of any of the BIO schemes: B starts a mention; I, E and L continue the
    open mention of their label or start one (IOB1 starts mentions with I); E and L end it; S
    and U are one-token mentions; O (or anything else) ends the open one."""
    text_parts: list[str] = []
    entities: list[tuple[int, int, str]] = []
    pos = 0
    open_start: int | None = None
    open_label = ""
    last_end = 0
    for token, tag in tokens:
        if text_parts:
            pos += 1
        start, end = pos, pos + len(token)
        text_parts.append(token)
        pos = end
        prefix, _, label = tag.partition("-")
        prefix = prefix.upper()
        continues = prefix in ("I", "E", "L") and open_start is not None and label == open_label
        if open_start is not None and not continues:
            entities.append((open_start, last_end, open_label))
            open_start = None
        if prefix in ("B", "I", "E", "L", "S", "U") and label and not continues:
            open_start, open_label = start, label
        last_end = end
        if open_start is not None and prefix in ("E", "L", "S", "U"):
            entities.append((open_start, end, open_label))
            open_start = None
    if open_start is not None:
        entities.append((open_start, last_end, open_label))
    return Annotated(doc_id, " ".join(text_parts), entities)


def read_semeval(path: Path) -> Iterator[Annotated]:
    """SemEval-2010 Task 8 training/test-full files: id and quoted sentence, label, comment."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        match = _SEMEVAL_LINE.match(line)
        if not match:
            continue
        label_line = lines[i + 1].strip() if i + 1 < len(lines) else ""
        yield Annotated(match.group(1), match.group(2), choice=parse_semeval_label(label_line))


def parse_semeval_label(label: str) -> tuple[str | None, bool]:
    """`Component-Whole(e2,e1)` -> ("Component-Whole", True); `Other` -> (None, False)."""
    match = _SEMEVAL_LABEL.match(label.strip())
    if not match:
        return (None, False)
    return (match.group(1), match.group(2) == "e2")


def _read_jsonl(path: Path, convert: Callable[[dict, str], Annotated], what: str) -> Iterator[Annotated]:
    """One document per non-empty JSON line; a line that does not convert is a usage error."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield convert(orjson.loads(line), f"{path.name}:{number}")
            except (orjson.JSONDecodeError, LookupError, TypeError, ValueError, AttributeError) as exc:
                raise UsageError(f"{path}:{number}: not {what} ({exc})") from None


def read_records(path: Path) -> Iterator[Annotated]:
    """ieclid JSONL records (or any JSONL with `text` and `entities` with offsets)."""
    return _read_jsonl(path, _record_document, "an ieclid record")


def _record_document(record: dict, fallback_id: str) -> Annotated:
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise ValueError("a record is a JSON object with a string 'text'")
    text = record["text"]
    entities: list[tuple[int, int, str]] = []
    index_of: dict[str, int] = {}
    items = record.get("entities", [])
    if not isinstance(items, list) or not all(isinstance(ent, dict) for ent in items):
        raise ValueError("'entities' is a list of objects")
    for number, ent in enumerate(items):
        start, end = ent.get("start"), ent.get("end")
        if not isinstance(ent.get("label"), str):
            raise ValueError(f"entity {number + 1} has no string 'label'")
        if start is None or end is None:
            start = text.find(ent["text"])
            if start < 0:
                continue
            end = start + len(ent["text"])
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            raise ValueError(f"entity {number + 1} has start {start} and end {end}, not a span of the text")
        index_of[ent.get("id", f"T{number + 1}")] = len(entities)
        entities.append((start, end, ent["label"]))
    triples = [
        (index_of[rel["head"]], index_of[rel["tail"]], rel["label"])
        for rel in record.get("relations", [])
        if rel.get("head") in index_of and rel.get("tail") in index_of
    ]
    return Annotated(
        str(record.get("id", fallback_id)), text, entities, triples, table=_record_table(record.get("table"))
    )


def _record_table(table: object) -> dict | None:
    """A record's table: ieclid's {columns, rows}, or a markdown table as models write it."""
    if isinstance(table, str):
        parsed = parse_table(table, (), [])
        return {"columns": list(parsed.columns), "rows": [list(r) for r in parsed.rows]}
    if isinstance(table, dict) and isinstance(table.get("columns"), list):
        rows = [[str(c) for c in row] for row in table.get("rows", [])]
        return {"columns": [str(c) for c in table["columns"]], "rows": rows}
    return None


def read_phee(path: Path) -> Iterator[Annotated]:
    """PHEE JSON Lines: events with a trigger and (nested) arguments; sub-arguments keep their
    parent's name where it disambiguates (`Subject.Disorder`, `Treatment.Disorder`)."""
    return _read_jsonl(path, _phee_document, "a PHEE record")


def _phee_document(record: dict, _fallback_id: str) -> Annotated:
    events = [
        _phee_event(event)
        for annotation in record.get("annotations", [])
        for event in annotation.get("events", [])
    ]
    return Annotated(str(record["id"]), record["context"], events=[e for e in events if e])


def _first_span(node: dict) -> tuple[int, int]:
    """PHEE spans are lists of discontinuous pieces; the first piece stands for the span."""
    start = node["start"][0][0]
    return start, start + len(node["text"][0][0])


def _phee_event(event: dict) -> GoldEvent | None:
    if "Trigger" not in event:
        return None
    start, end = _first_span(event["Trigger"])
    arguments = []
    for role, node in event.items():
        if role in ("Trigger", "event_id", "event_type") or not isinstance(node, dict) or "start" not in node:
            continue
        arguments.append((*_first_span(node), role))
        for sub, sub_node in node.items():
            if isinstance(sub_node, dict) and "start" in sub_node:
                name = f"{role}.{sub}" if sub == "Disorder" else sub
                arguments.append((*_first_span(sub_node), name))
    return GoldEvent(start, end, event["event_type"], tuple(sorted(arguments)))


def read_carb(path: Path) -> Iterator[Annotated]:
    """CaRB gold TSV: `sentence, predicate, arg1, arg2...` per line, one document per sentence
    (read as the CaRB scorer reads it: context arguments `C: ...` dropped)."""
    for number, (text, extractions) in enumerate(carb.read_gold(path).items(), start=1):
        yield Annotated(f"{path.name}:{number}", text, tuples=[(e.pred, *e.args) for e in extractions])


def read_fewrel(path: Path) -> Iterator[Annotated]:
    """FewRel JSON ({relation id: [instances]}): marked sentences for rc, labelled with relation
    names from `pid2name.json` beside the file when it is there, else with the ids."""
    try:
        data = orjson.loads(path.read_bytes())
        names_path = path.with_name("pid2name.json")
        names = orjson.loads(names_path.read_bytes()) if names_path.is_file() else {}
        # Round-robin over relations, so the first N items (`--limit`) cover every relation.
        longest = max((len(v) for v in data.values()), default=0)
        for number in range(longest):
            for pid, instances in data.items():
                if number < len(instances):
                    label = names[pid][0] if pid in names else pid
                    marked = _fewrel_marked(instances[number])
                    yield Annotated(f"{pid}:{number + 1}", marked, choice=(label, False))
    except (orjson.JSONDecodeError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise UsageError(f"{path}: not a FewRel file ({exc})") from None


def _token_offsets(tokens: list[str]) -> list[tuple[int, int]]:
    """Where each token stands in the tokens joined by single spaces."""
    offsets, pos = [], 0
    for token in tokens:
        offsets.append((pos, pos + len(token)))
        pos += len(token) + 1
    return offsets


def _fewrel_marked(item: dict) -> str:
    """Tokens joined by spaces with the head as <e1> and the tail as <e2> (first mention of each)."""
    tokens = item["tokens"]
    head, tail = item["h"][2][0], item["t"][2][0]
    offsets = _token_offsets(tokens)
    text = " ".join(tokens)
    e1 = (offsets[head[0]][0], offsets[head[-1]][1])
    e2 = (offsets[tail[0]][0], offsets[tail[-1]][1])
    return mark(text, {"e1": e1, "e2": e2})


DOCRED_TYPES = {"PER": "person", "ORG": "organization", "LOC": "location", "TIME": "time",
                "NUM": "number", "MISC": "miscellaneous"}


def read_docred(path: Path) -> Iterator[Annotated]:
    """DocRED/Re-DocRED JSON (documents with `sents`, `vertexSet`, `labels`): one document per
    sentence, with the mentions in it and the relations whose head and tail are both mentioned
    there (and whose evidence, where given, includes it), named from `rel_info.json` beside the
    file when it is there, else by their Wikidata ids. Sentence level, because that is where the
    models ieclid runs see both ends of a relation together."""
    try:
        data = orjson.loads(path.read_bytes())
        names_path = path.with_name("rel_info.json")
        names = orjson.loads(names_path.read_bytes()) if names_path.is_file() else {}
        for doc in data:
            for number, tokens in enumerate(doc["sents"]):
                yield _docred_sentence(doc, number, tokens, names)
    except (orjson.JSONDecodeError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise UsageError(f"{path}: not a DocRED/Re-DocRED file ({exc})") from None


def _docred_sentence(doc: dict, number: int, tokens: list[str], names: dict) -> Annotated:
    offsets = _token_offsets(tokens)
    text = " ".join(tokens)
    here = sorted(
        (offsets[m["pos"][0]][0], offsets[m["pos"][1] - 1][1], DOCRED_TYPES.get(m["type"], m["type"].lower()),
         vertex)
        for vertex, mentions in enumerate(doc["vertexSet"])
        for m in mentions
        if m["sent_id"] == number
    )
    entities = [(start, end, label) for start, end, label, _ in here]
    mentions_of: dict[int, list[int]] = {}  # vertex -> indices into entities
    for index, (*_, vertex) in enumerate(here):
        mentions_of.setdefault(vertex, []).append(index)
    triples = [
        (head, tail, names.get(rel["r"], rel["r"]))
        for rel in doc.get("labels", [])
        if not rel.get("evidence") or number in rel["evidence"]
        for head in mentions_of.get(rel["h"], [])
        for tail in mentions_of.get(rel["t"], [])
    ]
    return Annotated(f"{doc['title']}#{number + 1}", text, entities, triples)


def read_oneie(path: Path) -> Iterator[Annotated]:
    """OneIE JSON Lines (GENEVA, ACE/ERE preprocessed alike): a sentence with its tokens, entity
    mentions, and events whose arguments point at entity mentions by id. Event types and roles
    are named as `oneie_schema` names them (`Bodily_harm` as `bodily harm`)."""
    return _read_jsonl(path, _oneie_document, "a OneIE record")


def _oneie_document(record: dict, _fallback_id: str) -> Annotated:
    text, tokens = record["sentence"], record["tokens"]
    offsets, pos = [], 0
    for token in tokens:  # the sentence as written; tokens joined by spaces where it differs
        found = text.find(token, pos)
        if found < 0:
            text, offsets = " ".join(tokens), _token_offsets(tokens)
            break
        offsets.append((found, found + len(token)))
        pos = found + len(token)

    def span(node: dict) -> tuple[int, int]:
        return offsets[node["start"]][0], offsets[node["end"] - 1][1]

    entities = {e["id"]: span(e) for e in record.get("entity_mentions", [])}
    events = [
        GoldEvent(*span(event["trigger"]), natural_name(event["event_type"]), tuple(sorted(
            (*entities[a["entity_id"]], natural_name(a["role"])) for a in event.get("arguments", [])
        )))
        for event in record.get("event_mentions", [])
    ]
    return Annotated(str(record.get("wnd_id") or record["doc_id"]), text, events=events)


def event_ontology(path: Path) -> Path | None:
    """GENEVA's `event_ontology.json` (FrameNet frames) where it is beside a OneIE file."""
    ontology = path.with_name("event_ontology.json")
    return ontology if ontology.is_file() else None


def oneie_schema(path: Path) -> Schema | None:
    """The event types and roles of a OneIE file, described by the ontology beside it."""
    ontology_path = event_ontology(path)
    if ontology_path is None:
        return None
    schema = load_schema(str(ontology_path))
    if schema.entities or schema.relations:
        raise UsageError(f"{ontology_path}: not an event ontology")
    return schema


def sniff_format(path_str: str, what: str) -> str | None:
    """The annotation format of a file from its first line (one of READERS), or None.

    `what` names the file in errors ("demonstration", "gold").
    """
    path = Path(path_str)
    if not path.is_file():
        raise UsageError(f"{what} file not found: {path_str}")
    try:
        head = path.read_text(encoding="utf-8")[:4096]
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path_str}: {exc}") from None
    lines = [line for line in head.splitlines() if line.strip()]
    first = next(iter(lines), "")
    if re.match(r'\s*\{\s*"P\d+"\s*:\s*\[', first):
        return "fewrel"
    if first.lstrip().startswith("[") and '"vertexSet"' in head:
        return "docred"
    if first.lstrip().startswith("{") and '"event_mentions"' in first and '"tokens"' in first:
        return "oneie"
    if first.lstrip().startswith("{"):
        return "phee" if '"context"' in first and '"annotations"' in first else "records"
    if _SEMEVAL_LINE.match(first):
        return "semeval"
    if first.count("\t") >= 2 and " " in first.split("\t")[0]:
        return "carb"  # a sentence, then the tuple's fields
    if any(_tagged(line) and not _is_conll_skip(line) for line in lines[:20]):
        return "conll"
    return None


READERS = {
    "records": read_records,
    "semeval": read_semeval,
    "conll": read_conll,
    "phee": read_phee,
    "carb": read_carb,
    "fewrel": read_fewrel,
    "docred": read_docred,
    "oneie": read_oneie,
}


def read_annotated(path_str: str, what: str = "demonstration") -> list[Annotated]:
    """Pick the reader from the file's content: JSONL records, SemEval-2010, or CoNLL."""
    fmt = sniff_format(path_str, what)
    if fmt is None:
        raise UsageError(
            f"{path_str}: unknown format; expected ieclid JSONL records, CoNLL (token ... BIO tag), "
            "SemEval-2010 Task 8, PHEE, CaRB, FewRel, DocRED or OneIE (GENEVA)"
        )
    docs = list(READERS[fmt](Path(path_str)))
    if not docs:
        raise UsageError(f"{path_str}: no annotated examples found")
    return docs
