"""The review screen: the document with its spans coloured by label, the item list beside it,
and one key per decision. Every decision goes to disk at once (see session.py)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Header, Input, OptionList, Static

from ieclid.review.session import Session

# Colours that read on dark and light terminals, and degrade to the 16 basic ones.
PALETTE = (
    "cyan", "magenta", "green", "yellow", "blue", "red", "bright_cyan", "bright_magenta", "bright_green"
)
STATE_MARK = {"accepted": "✓", "rejected": "✗", "edited": "✎", "added": "+", None: "·"}
FILTERS = (None, "unreviewed", "unplaced", "low")

HELP = """\
ieclid review: keys

  j / down     next item            k / up      previous item
  n / pgdn     next document        p / pgup    previous document
  space        next undecided item (any document)
  a            accept               r / x       reject
  e            change the label (or role) from the schema
  [  ]         move the start one token left / right
  {  }         move the end one token left / right
  +            add a span: type text to find, then pick a label
  P            place the item where typed text occurs (unplaced queue)
  s            swap head and tail of a relation
  d            delete an item you added (model items are rejected)
  D            accept the rest of the document and mark it done
  u / ctrl+z   undo                     U / ctrl+y  redo
  f            filter: all, undecided, unplaced, low score
  l            filter by label
  ?            this help            q           quit (everything is saved)

Every decision is written to the reviewed file at once.
"""


class Choose(ModalScreen[str | None]):
    """Pick one of several names (labels, roles); escape cancels."""

    BINDINGS: ClassVar = [Binding("escape", "dismiss(None)", "cancel")]

    def __init__(self, title: str, names: list[str]) -> None:
        super().__init__()
        self.title_text = title
        self.names = names

    def compose(self) -> ComposeResult:
        yield Static(self.title_text, id="choose-title")
        yield OptionList(*self.names, id="choose")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.names[event.option_index])


class Ask(ModalScreen[str | None]):
    """One line of text (a search); enter confirms, escape cancels."""

    BINDINGS: ClassVar = [Binding("escape", "dismiss(None)", "cancel")]

    def __init__(self, prompt: str) -> None:
        super().__init__()
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        yield Static(self.prompt)
        yield Input(id="ask")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value or None)


class Help(ModalScreen[None]):
    BINDINGS: ClassVar = [Binding("escape,q,question_mark", "dismiss(None)", "close")]

    def compose(self) -> ComposeResult:
        yield Static(HELP, id="help")


class ReviewApp(App):
    TITLE = "ieclid review"
    CSS = """
    #doc { width: 3fr; padding: 0 1; border-right: solid $accent; }
    #items { width: 2fr; padding: 0 1; }
    #status { height: 1; background: $boost; padding: 0 1; }
    Choose, Ask, Help { align: center middle; }
    #choose, #ask { width: 50; max-height: 16; }
    #help { width: 72; border: round $accent; padding: 0 1; background: $panel; }
    """
    BINDINGS: ClassVar = [
        Binding("j,down", "item(1)", "next", show=False),
        Binding("k,up", "item(-1)", "prev", show=False),
        Binding("n,pagedown", "doc(1)", "next doc"),
        Binding("p,pageup", "doc(-1)", "prev doc", show=False),
        Binding("space", "next_unreviewed", "next undecided"),
        Binding("a", "decide('accepted')", "accept"),
        Binding("r,x", "decide('rejected')", "reject"),
        Binding("e", "relabel", "label"),
        Binding("left_square_bracket", "boundary('start', -1)", "start←", show=False),
        Binding("right_square_bracket", "boundary('start', 1)", "start→", show=False),
        Binding("left_curly_bracket", "boundary('end', -1)", "end←", show=False),
        Binding("right_curly_bracket", "boundary('end', 1)", "end→", show=False),
        Binding("plus", "add", "add"),
        Binding("P", "place", "place", show=False),
        Binding("s", "swap", "swap", show=False),
        Binding("d", "delete", "delete", show=False),
        Binding("D", "finish", "doc done"),
        Binding("u,ctrl+z", "undo", "undo"),
        Binding("U,ctrl+y", "redo", "redo", show=False),
        Binding("f", "cycle_filter", "filter", show=False),
        Binding("l", "label_filter", "by label", show=False),
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        names = sorted({name for names in session.labels.values() for name in names})
        self.colours = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(names)}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with VerticalScroll(id="doc"):
                yield Static(id="text")
            with VerticalScroll(id="items"):
                yield Static(id="list")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_view()

    # -- drawing --------------------------------------------------------------------------
    def refresh_view(self) -> None:
        s = self.session
        record = s.record
        current = s.current
        text = Text(record["text"])
        for entity in record.get("entities", []):
            if entity.get("start") is None or (entity.get("review") or {}).get("state") == "rejected":
                continue
            style = self.colours.get(entity["label"], "white")
            text.stylize(f"underline {style}", entity["start"], entity["end"])
        if current and current.kind == "entities":
            entity = s.get(current)
            if entity.get("start") is not None:
                text.stylize("reverse bold", entity["start"], entity["end"])
        self.query_one("#text", Static).update(text)
        lines = Text()
        for index, ref in enumerate(s.items()):
            item = s.get(ref)
            state = (item.get("review") or {}).get("state")
            label = item.get("label") or item.get("role") or "tuple"
            where = "" if ref.kind != "entities" else f" {item.get('status', '')}"
            score = f" {item['score']:.2f}" if item.get("score") is not None else ""
            line = Text(f"{STATE_MARK.get(state, '·')} {ref.id:<4} ")
            line.append(label, style=self.colours.get(label, "white"))
            line.append(f"  {s.label_text(ref)}{where}{score}\n")
            if index == s.item:
                line.stylize("reverse")
            lines.append(line)
        if not s.items():
            lines.append("no items" + (f" (filter: {s.filter})" if s.filter else ""))
        self.query_one("#list", Static).update(lines)
        done, total = s.progress()
        flag = "done" if (record.get("review") or {}).get("done") else "open"
        self.query_one("#status", Static).update(
            f"document {s.doc + 1}/{total} {record.get('id', '')} [{flag}]  ·  {done} done  ·  "
            f"filter: {s.filter or 'all'}  ·  saving to {s.out}"
        )
        self.sub_title = f"{s.doc + 1}/{total}"

    def _after(self, message: str | None = None) -> None:
        self.refresh_view()
        if message:
            self.notify(message, timeout=2)

    # -- actions ----------------------------------------------------------------------------
    def action_item(self, step: int) -> None:
        self.session.move_item(step)
        self._after()

    def action_doc(self, step: int) -> None:
        self.session.move_doc(step)
        self._after()

    def action_next_unreviewed(self) -> None:
        self._after(None if self.session.next_unreviewed() else "every item has a decision")

    def action_decide(self, state: str) -> None:
        self.session.decide(state)
        self._after()

    def action_relabel(self) -> None:
        ref = self.session.current
        if ref is None or not self.session.choices(ref):
            return
        what = "new role" if ref.kind == "arguments" else "new label"
        self.push_screen(Choose(what, self.session.choices(ref)), self._relabelled)

    def _relabelled(self, label: str | None) -> None:
        if label:
            self.session.relabel(label)
        self._after()

    def action_boundary(self, side: str, step: int) -> None:
        self.session.move_boundary(side, step)
        self._after()

    def action_add(self) -> None:
        self.push_screen(Ask("text of the new span:"), self._add_found)

    def _add_found(self, needle: str | None) -> None:
        current = self.session.current
        after = 0
        if current and current.kind == "entities":
            after = self.session.get(current).get("end") or 0
        span = self.session.find(needle or "", after)
        if span is None:
            self._after(f"not in this document: {needle!r}" if needle else None)
            return

        def chosen(label: str | None) -> None:
            if label:
                self.session.add_span(*span, label)
            self._after()

        self.push_screen(Choose("label of the new span", self.session.labels["entities"]), chosen)

    def action_place(self) -> None:
        self.push_screen(Ask("place the item at text:"), self._placed)

    def _placed(self, needle: str | None) -> None:
        span = self.session.find(needle or "")
        if span:
            self.session.place(*span)
        self._after(None if span or not needle else f"not in this document: {needle!r}")

    def action_swap(self) -> None:
        self.session.swap()
        self._after()

    def action_delete(self) -> None:
        self.session.delete()
        self._after()

    def action_finish(self) -> None:
        self.session.finish_document()
        self.session.move_doc(1)
        self._after()

    def action_undo(self) -> None:
        self._after(None if self.session.undo() else "nothing to undo")

    def action_redo(self) -> None:
        self._after(None if self.session.redo() else "nothing to redo")

    def action_cycle_filter(self) -> None:
        current = self.session.filter if self.session.filter in FILTERS else None
        self.session.set_filter(FILTERS[(FILTERS.index(current) + 1) % len(FILTERS)])
        self._after()

    def action_label_filter(self) -> None:
        def chosen(label: str | None) -> None:
            self.session.set_filter(f"label:{label}" if label else None)
            self._after()

        names = sorted({name for names in self.session.labels.values() for name in names})
        self.push_screen(Choose("show only", names), chosen)

    def action_help(self) -> None:
        self.push_screen(Help())
