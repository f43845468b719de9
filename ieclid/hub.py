"""Pulling GGUF files from the Hugging Face Hub (or any server that speaks its API, `HF_ENDPOINT`).

Downloads go through huggingface-hub (resumable: an interrupted download continues where
it stopped) into ieclid's home, are checked against the checksum the Hub publishes (the
LFS sha256, or the git blob hash of small files), and are registered under their name.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ieclid.errors import IeclidError
from ieclid.models import HubRef, delete_pulled, load_registry, save_registry
from ieclid.paths import home


def safe_name(name: str) -> bool:
    """A file name that stays inside the download folder (a server may list any name)."""
    parts = name.replace("\\", "/").split("/")
    return bool(name) and not name.startswith("/") and ".." not in parts and ":" not in parts[0]


def choose_file(ref: HubRef, files: list[str]) -> str:
    """The GGUF file of the repository that the reference means."""
    if ref.file and not safe_name(ref.file):
        raise IeclidError(f"{ref.repo}: refusing the file name {ref.file!r}: it leaves the download folder")
    files = [f for f in files if safe_name(f)]
    ggufs = [f for f in files if f.lower().endswith(".gguf")]
    if ref.file:
        if ref.file not in files:
            listed = ", ".join(ggufs) or "none"
            raise IeclidError(f"{ref.repo} has no file {ref.file}; its GGUF files: {listed}")
        return ref.file
    if ref.quant:
        ggufs = [f for f in ggufs if ref.quant.lower().replace("-", "_") in f.lower().replace("-", "_")]
    if len(ggufs) != 1:
        which = f" for {ref.quant}" if ref.quant else ""
        found = ", ".join(ggufs) if ggufs else "none"
        raise IeclidError(f"{ref.repo}: expected one GGUF file{which}, found {found}; pull {ref.repo}:FILE")
    return ggufs[0]


def pull(ref: HubRef, revision: str | None = None, progress: bool = True) -> dict:
    """Download, verify and register one model file; returns its registry entry."""
    from huggingface_hub import HfApi, get_hf_file_metadata, hf_hub_download, hf_hub_url
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

    (enable_progress_bars if progress else disable_progress_bars)()
    try:
        info = HfApi().model_info(ref.repo, revision=revision, files_metadata=True)
        files = [s.rfilename for s in info.siblings or []]
        filename = choose_file(ref, files)
        metadata = get_hf_file_metadata(hf_hub_url(ref.repo, filename, revision=info.sha or revision))
        path = hf_hub_download(ref.repo, filename, revision=info.sha or revision, cache_dir=home() / "hub")
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise IeclidError(f"cannot pull {ref.repo}: {first}") from None
    _verify(Path(path), metadata.etag)
    entry = {
        "path": path, "repo": ref.repo, "file": filename, "revision": info.sha,
        "size": Path(path).stat().st_size, "sha256": metadata.etag if _is_sha256(metadata.etag) else None,
    }
    registry = load_registry()
    registry["models"][ref.name or f"{ref.repo}:{filename}"] = entry
    save_registry(registry)
    return entry


def _is_sha256(etag: str | None) -> bool:
    return etag is not None and len(etag) == 64 and all(c in "0123456789abcdef" for c in etag.lower())


def _verify(path: Path, etag: str | None) -> None:
    """LFS files carry their sha256 as ETag, small git files their blob sha1; a mismatch is removed."""
    if not etag:
        raise IeclidError(f"{path.name}: the server published no checksum; not trusting the download")
    sha256, sha1 = hashlib.sha256(), hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            sha256.update(chunk)
            sha1.update(chunk)
    if etag.lower() not in (sha256.hexdigest(), sha1.hexdigest()):
        delete_pulled(path)
        raise IeclidError(f"{path.name}: checksum mismatch (expected {etag}); the download was removed")
