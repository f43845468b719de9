"""A colour per label, the same in every view ieclid writes: the HTML page (`ieclid show`),
Label Studio's labelling config and brat's visual.conf."""

from __future__ import annotations

from collections.abc import Iterable

# Colours a person can tell apart on white, in order of the labels' first appearance.
PALETTE = ("#ffd166", "#8ecae6", "#b5e48c", "#f4a3c0", "#cdb4db", "#ffb38a", "#a0e7e5", "#e9c46a",
           "#bde0fe", "#d8f3dc", "#ffc8dd", "#caffbf", "#fdffb6", "#9bf6ff", "#ffadad", "#e0c3fc")


def label_colours(labels: Iterable[str]) -> dict[str, str]:
    """Each label's colour, the labels in order of first appearance."""
    colours: dict[str, str] = {}
    for label in labels:
        if label not in colours:
            colours[label] = PALETTE[len(colours) % len(PALETTE)]
    return colours
