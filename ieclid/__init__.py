"""ieclid: grounded information extraction from text files with a local LLM.

`ieclid.extract(...)` and `ieclid.Extractor` are the Python API (ieclid/api.py); they load
when first used, so that `import ieclid` (and the command line's --help) stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Extractor", "IeclidError", "__version__", "extract"]

if TYPE_CHECKING:
    from ieclid.api import Extractor, extract
    from ieclid.errors import IeclidError


def __getattr__(name: str) -> Any:
    if name in ("extract", "Extractor"):
        from ieclid import api

        return getattr(api, name)
    if name == "IeclidError":
        from ieclid.errors import IeclidError

        return IeclidError
    raise AttributeError(f"module 'ieclid' has no attribute {name!r}")
