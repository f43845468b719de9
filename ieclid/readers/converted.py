"""What a reader returns: the text, and how it was made."""

from __future__ import annotations

from dataclasses import dataclass, field


class Unreadable(Exception):
    """A file of a known format that holds no text to extract from, or needs a missing extra."""


@dataclass(frozen=True)
class Converted:
    text: str
    converter: str  # what made the text, e.g. "html.parser" or "pypdfium2 5.1"
    pages: list[tuple[int, int, int]] = field(default_factory=list)  # (start, end, page from 1)

    def source(self) -> dict:
        source: dict = {"converter": self.converter}
        if self.pages:
            source["pages"] = [list(page) for page in self.pages]
        return source
