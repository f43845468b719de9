"""The code as a maintainer meets it: ruff clean, the typed modules clean under mypy, no import
loop among ieclid's modules (function-local imports included: a loop broken only by importing
late is still a loop), and no import from a lower layer of the data flow back up."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "ieclid", "tests", "benchmarks"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:]


def test_mypy_is_clean():
    """The modules pyproject.toml's [tool.mypy] names (the data flow, run, CLI options)."""
    result = subprocess.run([sys.executable, "-m", "mypy"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:]


# The layers of the data flow, bottom up: a module imports from its own layer or lower ones.
LAZY_EXPORTS = {"ieclid.api", "ieclid.errors"}
LAYERS = (
    ("foundation", ("ieclid", "ieclid.task_specs", "ieclid.errors", "ieclid.paths", "ieclid.interrupts", "ieclid.gguf_info",
                    "ieclid.chat_formats", "ieclid.documents", "ieclid.chunking", "ieclid.grammar",
                    "ieclid.grounding", "ieclid.schema", "ieclid.tasks", "ieclid.records", "ieclid.outputs",
                    "ieclid.resume", "ieclid.exchange", "ieclid.readers", "ieclid.html_view", "ieclid.record_text", "ieclid.label_colours",
                    "ieclid.evaluation.spans", "ieclid.evaluation.carb",
                    "ieclid.evaluation.semeval", "ieclid.evaluation.tables", "ieclid.training.label_names")),
    ("backends", ("ieclid.backends",)),
    ("models", ("ieclid.models", "ieclid.hub")),
    ("prompts", ("ieclid.profiles", "ieclid.datasets", "ieclid.demos")),
    ("pipeline", ("ieclid.pipeline",)),
    ("run", ("ieclid.settings", "ieclid.assembly", "ieclid.run", "ieclid.run_ray", "ieclid.run_ray_source",
             "ieclid.evaluation", "ieclid.review.session")),
    ("applications", ("ieclid.training", "ieclid.review", "ieclid.api")),
    ("cli", ("ieclid.cli", "ieclid.__main__")),
)


def layer(module: str) -> int:
    """The layer of the longest prefix naming the module (ieclid.evaluation.spans before
    ieclid.evaluation)."""
    best, found = -1, -1
    for number, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), number
    return found


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{module} -> {other}" for module, others in graph.items() for other in others
                  if layer(other) > layer(module))


def test_no_import_from_a_lower_layer_up():
    graph = import_graph()
    assert [m for m in graph if layer(m) < 0] == []  # every module has its layer
    assert upward_imports(graph) == []


def test_the_layer_check_finds_upward_imports():
    assert upward_imports({"ieclid.backends.batching": {"ieclid.pipeline", "ieclid.errors"}}) == [
        "ieclid.backends.batching -> ieclid.pipeline"]
    assert layer("ieclid.evaluation.spans") < layer("ieclid.evaluation.run")


def import_graph() -> dict[str, set[str]]:
    """ieclid module -> the ieclid modules it imports anywhere in it (not for type checking)."""
    modules = {}
    for path in (ROOT / "ieclid").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                node.body = []
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ieclid"):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if sub in modules else node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names if alias.name.startswith("ieclid"))
        graph[name] = {m for m in found if m in modules and m != name}
    # The package root hands out the Python API (and its error class) when first asked for
    # (`ieclid.__getattr__`); the package itself stays at the foundation.
    graph["ieclid"] -= LAZY_EXPORTS
    return graph


def loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_loops():
    graph = import_graph()
    assert len(graph) > 50 and graph["ieclid.run"]  # the graph is really read
    assert loops(graph) == []


def test_the_loop_finder_finds_loops():
    assert loops({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
