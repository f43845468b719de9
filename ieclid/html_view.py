"""Records as one self-contained HTML page to read them by: each document's text with its spans
highlighted in a colour per label, and its relations, events, tuples and table beside it.

Nothing is fetched from the network (the styles and the little script are inline), so the
page opens anywhere and can be mailed. Overlapping spans are drawn nested: the text is cut at
every span border and each piece is wrapped in the marks of the spans that cover it, so a span
may be drawn as several marks sharing its `data-id`; the first carries the anchor
`id="d{doc}-{entity}"` that relations and events link to. Hovering a mark shows its label,
score, grounding and review state.
"""

from __future__ import annotations

import itertools
from html import escape
from pathlib import Path
from typing import Any

from ieclid.label_colours import PALETTE, label_colours
from ieclid.record_text import referent

STYLE = """
body{font:15px/1.6 system-ui,sans-serif;margin:0;color:#222;display:flex}
nav{position:sticky;top:0;height:100vh;overflow:auto;min-width:14em;max-width:22em;
  background:#f6f6f6;border-right:1px solid #ddd;padding:.5em 1em;box-sizing:border-box}
nav a{display:block;color:#245;text-decoration:none;white-space:nowrap;overflow:hidden;
  text-overflow:ellipsis;font-size:13px}
nav a.error{color:#b00}
main{padding:1em 2em;max-width:60em;flex:1}
.legend label{display:inline-block;margin:0 .6em .3em 0;padding:0 .4em;border-radius:3px;
  cursor:pointer;font-size:13px}
section.doc{border-bottom:1px solid #ddd;padding:1em 0}
section.doc h2{font-size:15px;margin:0 0 .5em;font-family:monospace}
.text{white-space:pre-wrap}
mark{border-radius:3px;padding:1px 0;color:inherit}
mark mark{padding:3px 0;border-bottom:2px solid #555}
mark.rejected{text-decoration:line-through;opacity:.55}
mark::after{content:attr(data-tag);font-size:9px;vertical-align:super;margin-left:1px;color:#444}
mark.cont::after{content:none}
.error{color:#b00}
table{border-collapse:collapse;margin:.5em 0;font-size:13px}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
.items a{color:#245}
"""

SCRIPT = """
const hidden = new Set();
function apply() {
  document.querySelectorAll('mark').forEach(m => {
    m.style.background = hidden.has(m.dataset.label) ? 'transparent' : m.dataset.colour;
  });
  document.querySelectorAll('[data-row-label]').forEach(r => {
    r.style.display = hidden.has(r.dataset.rowLabel) ? 'none' : '';
  });
}
document.querySelectorAll('.legend input').forEach(box => box.addEventListener('change', () => {
  if (box.checked) hidden.delete(box.value); else hidden.add(box.value);
  apply();
}));
const docs = [...document.querySelectorAll('section.doc')];
document.addEventListener('keydown', e => {
  if (e.key !== 'j' && e.key !== 'k') return;
  const y = window.scrollY + 5;
  let i = docs.findIndex(d => d.offsetTop > y);
  if (i < 0) i = docs.length;
  const target = e.key === 'j' ? docs[i] : docs[Math.max(0, i - 2)];
  if (target) target.scrollIntoView();
});
apply();
"""


def render(records: list[dict[str, Any]], title: str = "ieclid results") -> str:
    """The page for `records` (ieclid's records, reviewed or not)."""
    colours = label_colours(str(e.get("label")) for r in records for e in r.get("entities") or [])
    nav = "".join(
        f'<a href="#d{n}" class="{"error" if r.get("error") else ""}">{escape(str(r.get("id", n)))}</a>'
        for n, r in enumerate(records)
    )
    legend = "".join(
        f'<label style="background:{colour}"><input type="checkbox" value="{escape(label)}" checked> '
        f"{escape(label)}</label>"
        for label, colour in colours.items()
    )
    body = "".join(_document(n, record, colours) for n, record in enumerate(records))
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width"><style>{STYLE}</style></head><body>'
        f"<nav><b>{len(records)} documents</b>{nav}</nav><main><h1>{escape(title)}</h1>"
        f'<div class="legend">{legend or "no labelled spans"}</div>'
        f'<p style="font-size:13px;color:#666">Untick a label to hide it; hover a span for its '
        f"score and review state; j / k: next / previous document.</p>{body}</main>"
        f"<script>{SCRIPT}</script></body></html>"
    )


def _document(n: int, record: dict[str, Any], colours: dict[str, str]) -> str:
    head = f'<section class="doc" id="d{n}"><h2>{escape(str(record.get("id", n)))}'
    done = (record.get("review") or {}).get("done")
    head += " · reviewed" if done else ""
    head += "</h2>"
    if record.get("error"):
        return f'{head}<p class="error">{escape(str(record["error"]))}</p></section>'
    text = record.get("text") or ""
    entities = [e for e in record.get("entities") or [] if _placed(e, len(text))]
    parts = [head, f'<div class="text">{_highlighted(n, text, entities, colours)}</div>']
    unplaced = [e for e in record.get("entities") or [] if not _placed(e, len(text))]
    if unplaced:
        parts.append("<p><b>Not found in the text:</b> " + ", ".join(
            f"{escape(str(e.get('text')))} ({escape(str(e.get('label')))})" for e in unplaced) + "</p>")
    parts.append(_items(n, record))
    for warning in record.get("warnings") or []:
        parts.append(f'<p class="error">warning: {escape(str(warning))}</p>')
    parts.append("</section>")
    return "".join(parts)


def _placed(entity: dict[str, Any], length: int) -> bool:
    start, end = entity.get("start"), entity.get("end")
    return isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= length


def _highlighted(n: int, text: str, entities: list[dict[str, Any]], colours: dict[str, str]) -> str:
    """The text with every placed entity marked; nested marks where spans overlap."""
    cuts = sorted({0, len(text), *(e["start"] for e in entities), *(e["end"] for e in entities)})
    ordered = sorted(entities, key=lambda e: (e["start"], -e["end"]))
    anchored: set[str] = set()
    out = []
    for a, b in itertools.pairwise(cuts):
        piece = escape(text[a:b])
        covering = [e for e in ordered if e["start"] <= a and b <= e["end"]]
        for entity in reversed(covering):  # the outermost (longest, earliest) ends up outside
            ref = str(entity.get("id"))
            first = ref not in anchored
            anchored.add(ref)
            piece = _mark(n, entity, colours, piece, first, last=b == entity["end"])
        out.append(piece)
    return "".join(out)


def _mark(n: int, entity: dict[str, Any], colours: dict[str, str], inner: str, first: bool,
          last: bool) -> str:
    label = str(entity.get("label"))
    review = entity.get("review") or {}
    hover = [label]
    if entity.get("score") is not None:
        hover.append(f"score {entity['score']:.2f}")
    if entity.get("status") not in (None, "exact"):
        hover.append(str(entity["status"]))
    if entity.get("propagated"):
        hover.append("propagated")
    if review.get("state"):
        hover.append(f"review: {review['state']}" + (f" by {review['by']}" if review.get("by") else ""))
    classes = [c for c in (str(review.get("state") or ""), "" if last else "cont") if c]
    anchor = f' id="d{n}-{escape(str(entity.get("id")))}"' if first else ""
    return (
        f'<mark{anchor} data-id="{escape(str(entity.get("id")))}" data-label="{escape(label)}" '
        f'data-colour="{colours.get(label, PALETTE[0])}" data-tag="{escape(label)}" '
        f'class="{" ".join(classes)}" title="{escape(" · ".join(hover))}">{inner}</mark>'
    )


def _items(n: int, record: dict[str, Any]) -> str:
    """Relations, events, tuples and the table, each end linked to its span."""
    entity_of = referent(record)
    events = record.get("events") or []

    def ref(item_id: object) -> str:
        entity = entity_of(item_id)
        if entity is None:
            return escape(str(item_id)) if item_id else ""
        return f'<a href="#d{n}-{escape(str(entity.get("id")))}">{escape(str(entity.get("text")))}</a>'

    def score(item: dict[str, Any]) -> str:
        value = item.get("score")
        state = (item.get("review") or {}).get("state")
        return (f"{value:.2f}" if isinstance(value, int | float) else "") + (f" ({state})" if state else "")

    out = ['<div class="items">']
    relations = record.get("relations") or []
    if relations:
        rows = "".join(
            f'<tr data-row-label="{escape(str(r.get("label")))}"><td>{ref(r.get("head"))}</td>'
            f"<td>{escape(str(r.get('label')))}</td><td>{ref(r.get('tail'))}</td><td>{score(r)}</td></tr>"
            for r in relations
        )
        out.append(f"<table><tr><th>head</th><th>relation</th><th>tail</th><th>score</th></tr>{rows}</table>")
    if events:
        def arguments(event: dict[str, Any]) -> str:
            return ", ".join(f"{escape(str(a.get('role')))}: {ref(a.get('ref'))}"
                             for a in event.get("arguments") or [])

        rows = "".join(
            f'<tr><td>{escape(str(e.get("label")))}</td><td>{ref(e.get("trigger"))}</td>'
            f"<td>{arguments(e)}</td><td>{score(e)}</td></tr>"
            for e in events
        )
        out.append(f"<table><tr><th>event</th><th>trigger</th><th>arguments</th><th>score</th></tr>{rows}</table>")
    tuples = record.get("tuples") or []
    if tuples:
        slots = ("subject", "predicate", "object", "time", "location")
        rows = "".join("<tr>" + "".join(f"<td>{ref(t.get(s))}</td>" for s in slots)
                       + f"<td>{score(t)}</td></tr>" for t in tuples)
        header = "".join(f"<th>{s}</th>" for s in (*slots, "score"))
        out.append(f"<table><tr>{header}</tr>{rows}</table>")
    table = record.get("table")
    if table and table.get("columns"):
        header = "".join(f"<th>{escape(str(c))}</th>" for c in table["columns"])
        rows = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>"
                       for row in table.get("rows") or [])
        out.append(f"<table><tr>{header}</tr>{rows}</table>")
    out.append("</div>")
    return "".join(out)


def write_view(records_path: str, output: str | None = None, *, overwrite: bool = False) -> Path:
    """Write the page for a records file to `output` (default: beside it, `.html` for its
    suffix); an existing file is replaced only with `overwrite`, the records file never. The
    page is written whole, under a temporary name first."""
    from ieclid.outputs import check_output, read_records, write_whole

    source = Path(records_path)
    target = Path(output) if output else source.with_suffix(".html")
    check_output(str(target), overwrite=overwrite, inputs=[records_path])
    write_whole(target, render(read_records(records_path), title=source.name).encode("utf-8"))
    return target
