"""Web pages to text with the standard library's HTML parser: the page's main content (its
`<main>` or `<article>` where it has one), without scripts, styles, navigation, headers,
footers, asides and forms; one paragraph per block element, entities decoded, white space
collapsed as a browser shows it (kept in `<pre>`).

Chosen over trafilatura (which finds the main text of pages without such markup, at several
times the cost and a dozen dependencies) and BeautifulSoup (no boilerplate rules of its own):
docs/usage.md, Documents, has the comparison."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from ieclid.readers.converted import Converted, Unreadable

SKIPPED = {"script", "style", "noscript", "template", "svg", "head", "nav", "header", "footer",
           "aside", "form", "button", "iframe", "select", "object", "canvas", "dialog"}
BLOCKS = {"p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul",
          "ol", "dl", "dt", "dd", "table", "tr", "blockquote", "pre", "figure", "figcaption",
          "caption", "hr", "address", "details", "summary", "body"}
CELLS = {"td", "th"}
VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source",
        "track", "wbr", "param"}
_SPACE = re.compile(r"[ \t\r\n\f]+")


class _Text(HTMLParser):
    """Collects text per region: all of the body, and each <main>/<article> on its own."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []  # text, "\n" (a line break) or "\n\n" (a paragraph break)
        self.skipping: list[str] = []
        self.pre = 0
        self.main: list[tuple[int, int]] = []  # ranges of `parts` inside <main> or <article>
        self._opened: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        given = dict(attrs)
        hidden = given.get("hidden") is not None or given.get("aria-hidden") == "true"
        if self.skipping or tag in SKIPPED or hidden:
            if tag not in VOID:
                self.skipping.append(tag)
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag in BLOCKS:
            self.parts.append("\n\n")
        elif tag in CELLS:
            self.parts.append("\t")
        if tag == "pre":
            self.pre += 1
        if tag in ("main", "article"):
            self._opened.append((tag, len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag in self.skipping:
                while self.skipping and self.skipping.pop() != tag:
                    pass
            return
        if tag in BLOCKS:
            self.parts.append("\n\n")
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if self._opened and self._opened[-1][0] == tag:
            _, start = self._opened.pop()
            if not self._opened:
                self.main.append((start, len(self.parts)))

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        data = data.replace("\xa0", " ")  # &nbsp; is layout; models read a plain space best
        self.parts.append(data if self.pre else _SPACE.sub(" ", data))


def _join(parts: list[str]) -> str:
    """Paragraphs separated by one blank line, lines by a newline; spaces at their edges gone."""
    text = "".join(parts)
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", text)  # tabs between cells stay, edges of lines go
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def read_html(data: bytes) -> Converted:
    parser = _Text()
    parser.feed(_decode(data))
    parser.close()
    if parser.main:
        text = "\n\n".join(_join(parser.parts[a:b]) for a, b in parser.main)
    else:
        text = _join(parser.parts)
    if not text.strip():
        raise Unreadable("no text in the page (only markup, scripts or navigation)")
    return Converted(text, "html.parser")


def _decode(data: bytes) -> str:
    """The page's characters: UTF-8 (a BOM dropped), else the charset its <meta> declares, else
    Windows-1252 as browsers assume."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = re.search(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", data[:4096])
    for encoding in ([declared.group(1).decode("ascii")] if declared else []) + ["cp1252"]:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")
