"""Where ieclid keeps what it makes and fetches: models, their CPU copies, the registry."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """IECLID_HOME, or ~/.local/share/ieclid."""
    return Path(os.environ.get("IECLID_HOME") or Path.home() / ".local" / "share" / "ieclid")
