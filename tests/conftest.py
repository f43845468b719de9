"""Shared fixtures: the embedded model (loaded once per session) and the shared data sets."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Tests never read or write the user's model registry (nor its default model).
os.environ["IECLID_HOME"] = tempfile.mkdtemp(prefix="ieclid-test-home-")
atexit.register(shutil.rmtree, os.environ["IECLID_HOME"], ignore_errors=True)  # it holds a 145 MB model copy

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data not found at {SHARED_DATA}; tests read real IE data from there")
    return SHARED_DATA


@pytest.fixture(scope="session")
def backend():
    from ieclid.backends.in_process import LlamaCppBackend
    from ieclid.models import embedded_model_path

    loaded = LlamaCppBackend(embedded_model_path(), threads=2, ctx=4096)
    yield loaded
    loaded.close()
