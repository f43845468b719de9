"""Label sets with guidelines: one schema drives prompts, grammars, parsing and validation.

A schema is a YAML file (see `schemas/`): entity labels, relation labels and event
types with their argument roles, each with a description that prompts can quote.
`--labels a,b,c` builds an ad-hoc schema, and an event ontology in GENEVA's JSON form
(`event_ontology.json`: FrameNet frames with their roles) is read as an event schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import orjson
import yaml

from ieclid.errors import UsageError


@dataclass(frozen=True)
class Label:
    name: str
    description: str = ""
    aliases: tuple[str, ...] = ()  # tags that data sets use for it (PER for person), for --demos


@dataclass(frozen=True)
class RelationType:
    """A relation; `roles` names what head and tail are (e.g. Component, Whole)."""

    name: str
    description: str = ""
    roles: tuple[str, str] | None = None
    template: str | None = None  # a statement with {head} and {tail}, for QA4RE options
    types: tuple[tuple[str, str], ...] = ()  # allowed (head type, tail type); empty: any
    aliases: tuple[str, ...] = ()  # names data sets give it (employer for works for)
    # names data sets give it the other way round (subsidiary for part of): head and tail swap
    inverse_aliases: tuple[str, ...] = ()

    def allows(self, head_type: str, tail_type: str) -> bool:
        """Whether this relation can hold between mentions of these types (either way if directed)."""
        pairs = {(h.lower(), t.lower()) for h, t in self.types}
        pair = (head_type.lower(), tail_type.lower())
        return not pairs or pair in pairs or (self.roles is not None and pair[::-1] in pairs)

    def ends(self, first: str, second: str, reverse: bool = False) -> tuple[str, str]:
        """A marked pair's ends in the order an answer names them: a relation with roles says
        its direction in its wording (verbalise), one without by which end comes first."""
        return (second, first) if reverse and self.roles is None else (first, second)

    def verbalise(self, reverse: bool = False) -> str:
        """ADELIE's wording of a directed label: '<head role> and <tail role>'."""
        if self.roles is None:
            return self.name
        head, tail = self.roles
        return f"{tail} and {head}" if reverse else f"{head} and {tail}"


@dataclass(frozen=True)
class EventType:
    """An event type and the roles its arguments can play."""

    name: str
    description: str = ""
    roles: tuple[Label, ...] = ()


@dataclass(frozen=True)
class Schema:
    name: str
    entities: tuple[Label, ...] = ()
    relations: tuple[RelationType, ...] = ()
    events: tuple[EventType, ...] = ()
    none_label: str | None = None
    none_template: str | None = None
    title: str = ""
    source: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def entity_names(self) -> list[str]:
        return [label.name for label in self.entities]

    @property
    def relation_names(self) -> list[str]:
        return [rel.name for rel in self.relations]

    def relation(self, name: str) -> RelationType | None:
        return next((r for r in self.relations if r.name == name), None)

    def for_types(self, head_type: str, tail_type: str) -> Schema:
        """The schema with only the relations allowed between these entity types."""
        return replace(self, relations=tuple(r for r in self.relations if r.allows(head_type, tail_type)))

    @property
    def event_names(self) -> list[str]:
        return [event.name for event in self.events]

    def event(self, name: str) -> EventType | None:
        return next((e for e in self.events if e.name == name), None)

    def roles(self, event_type: str | None = None) -> tuple[Label, ...]:
        """The roles of one event type, or of all (first description wins) when it is None."""
        events = self.events if event_type is None else [e for e in self.events if e.name == event_type]
        seen: dict[str, Label] = {}
        for event in events:
            for role in event.roles:
                seen.setdefault(role.name, role)
        return tuple(seen.values())


def schema_dirs() -> list[Path]:
    """Built-in schemas live in the wheel (`ieclid/schemas`) or, from a checkout, at the top."""
    here = Path(__file__).resolve().parent
    return [d for d in (here / "schemas", here.parent / "schemas") if d.is_dir()]


def builtin_schemas() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for directory in schema_dirs():
        for path in sorted(directory.glob("*.yaml")):
            found.setdefault(path.stem, path)
    return found


def _parse_labels(raw: object, where: str) -> list[tuple[str, dict]]:
    """Accept a mapping name -> description|{description, ...} or a list of names."""
    if raw is None:
        return []
    if isinstance(raw, list):
        return [(str(name), {}) for name in raw]
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: labels must be a list or a mapping")
    items: list[tuple[str, dict]] = []
    for name, value in raw.items():
        if value is None or isinstance(value, str):
            items.append((str(name), {"description": value or ""}))
        elif isinstance(value, dict):
            items.append((str(name), value))
        else:
            raise UsageError(f"{where}: label {name!r} must map to a description or a mapping")
    return items


def _parse_type_pairs(value: object, where: str) -> tuple[tuple[str, str], ...]:
    """`types: ["person:organization", ...]`, QA4RE's subject:object conditions."""
    if value is None:
        return ()
    pairs = []
    for item in value if isinstance(value, list) else [None]:
        head, _, tail = str(item).partition(":") if isinstance(item, str) else ("", "", "")
        if not head.strip() or not tail.strip():
            raise UsageError(f"{where}: types must be a list of 'head_type:tail_type' strings")
        pairs.append((head.strip(), tail.strip()))
    return tuple(pairs)


def _parse_aliases(value: object, where: str, key: str = "aliases") -> tuple[str, ...]:
    """`aliases: [PER, B-PER]`: other names data sets give a label."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise UsageError(f"{where}: {key} must be a list of names")
    return tuple(v.strip() for v in value)


def schema_from_dict(data: object, where: str) -> Schema:
    if not isinstance(data, dict):
        raise UsageError(f"{where}: a schema must be a mapping of labels (YAML or JSON)")
    keys = {"name", "title", "source", "entities", "relations", "events", "none_label", "none_template"}
    unknown = set(data) - keys
    if unknown:
        raise UsageError(f"{where}: unknown schema keys: {', '.join(sorted(unknown))}")
    entities = tuple(
        Label(name, str(spec.get("description", "")), _parse_aliases(spec.get("aliases"), f"{where}: {name}"))
        for name, spec in _parse_labels(data.get("entities"), where)
    )
    relations = []
    for name, spec in _parse_labels(data.get("relations"), where):
        roles = spec.get("roles")
        if roles is not None and (not isinstance(roles, list) or len(roles) != 2):
            raise UsageError(f"{where}: relation {name!r}: roles must be a list of two names")
        template = spec.get("template")
        for text in (template, data.get("none_template")):
            if text is not None and not _is_template(text):
                raise UsageError(f"{where}: template {text!r} must contain {{head}} and {{tail}}")
        relations.append(
            RelationType(
                name, str(spec.get("description", "")), tuple(roles) if roles else None, template,
                _parse_type_pairs(spec.get("types"), f"{where}: relation {name!r}"),
                _parse_aliases(spec.get("aliases"), f"{where}: {name}"),
                _parse_aliases(spec.get("inverse_aliases"), f"{where}: {name}", "inverse_aliases"),
            )
        )
    events = []
    for name, spec in _parse_labels(data.get("events"), where):
        roles = _parse_labels(spec.get("roles"), f"{where}: event {name!r}")
        roles_ = tuple(Label(role, str(role_spec.get("description", ""))) for role, role_spec in roles)
        events.append(EventType(name, str(spec.get("description", "")), roles_))
    if not entities and not relations and not events:
        raise UsageError(f"{where}: the schema defines no entity, relation or event labels")
    return Schema(
        name=str(data.get("name", Path(where).stem)),
        entities=entities,
        relations=tuple(relations),
        events=tuple(events),
        none_label=data.get("none_label"),
        none_template=data.get("none_template"),
        title=str(data.get("title", "")),
        source=str(data.get("source", "")),
    )


def _is_template(text: object) -> bool:
    if not isinstance(text, str):
        return False
    try:
        filled = text.format(head="\x00", tail="\x01")
    except (KeyError, IndexError, ValueError):
        return False
    return "\x00" in filled and "\x01" in filled


def load_schema(ref: str) -> Schema:
    """Load a built-in schema by name, or a file by path: YAML (or the same in JSON), or an event
    ontology in GENEVA's JSON form."""
    path = Path(ref)
    if not path.suffix and ref in builtin_schemas():
        path = builtin_schemas()[ref]
    elif not path.exists():
        if path.suffix in (".yaml", ".yml"):
            raise UsageError(f"schema file not found: {ref}")
        names = ", ".join(builtin_schemas()) or "none"
        raise UsageError(f"unknown schema {ref!r}; built-in schemas: {names}")
    try:
        if path.suffix == ".json":
            data = orjson.loads(path.read_bytes())
            if _is_ontology(data):
                return schema_from_ontology(data, path.parent.name or path.stem)
        else:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{path}: invalid JSON ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise UsageError(f"{where}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read schema {path}: {exc}") from None
    return schema_from_dict(data, str(path))


def natural_name(name: str) -> str:
    """FrameNet's `Created_entity` as `created entity`: names the prompts read like words."""
    return name.replace("_", " ").lower()


def _is_ontology(data: object) -> bool:
    """GENEVA's (MAVEN-style) event ontology: event names to {"description", "arguments"}."""
    return isinstance(data, dict) and bool(data) and all(
        isinstance(spec, dict) and isinstance(spec.get("arguments"), dict) for spec in data.values())


def schema_from_ontology(ontology: dict, name: str) -> Schema:
    """Event types and roles under their natural names, described by the first sentence of
    each FrameNet description (the rest runs on with examples)."""
    events = tuple(
        EventType(natural_name(event), _first_sentence(spec.get("description", "")), tuple(
            Label(natural_name(role), _first_sentence(arg.get("arg_desc") if isinstance(arg, dict) else ""))
            for role, arg in spec["arguments"].items()
        ))
        for event, spec in ontology.items()
    )
    return Schema(name, events=events)


def _first_sentence(description: object) -> str:
    first = re.split(r"(?<=[.!?])\s+", str(description or "").strip(), maxsplit=1)[0]
    return re.sub(r"\b[A-Za-z]+(?:_[A-Za-z0-9]+)+\b", lambda m: natural_name(m.group(0)), first)


def schema_from_labels(labels: str, kind: str) -> Schema:
    """`--labels a,b,c`: entity labels (ner), relation labels (rc, re, ere) or event types (ed, ee)."""
    names = [n.strip() for n in labels.split(",") if n.strip()]
    if not names:
        raise UsageError("--labels is empty: give comma-separated label names")
    if len(set(names)) != len(names):
        raise UsageError("--labels has duplicate names")
    if kind == "relations":
        return Schema("labels", relations=tuple(RelationType(n) for n in names))
    if kind == "events":
        return Schema("labels", events=tuple(EventType(n) for n in names))
    return Schema("labels", entities=tuple(Label(n) for n in names))
