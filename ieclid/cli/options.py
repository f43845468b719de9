"""Options shared by the commands that run a model (`extract`, `eval`), declared once."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum

import typer


class Task(StrEnum):
    ner = "ner"
    rc = "rc"
    re = "re"
    ed = "ed"
    eae = "eae"
    ee = "ee"
    ere = "ere"
    openie = "openie"
    table = "table"


class Method(StrEnum):
    direct = "direct"
    qa4re = "qa4re"


class CacheTypeK(StrEnum):
    auto = "auto"
    f16 = "f16"
    q8_0 = "q8_0"


class ProfileName(StrEnum):
    adelie = "adelie"
    chat_json = "chat-json"
    instructuie = "instructuie"


def _schema_names() -> list[str]:
    from ieclid.schema import builtin_schemas

    return list(builtin_schemas())


TASK = typer.Option(
    Task.ner, "--task", "-t",
    help="ner: entities; rc: relation between <e1>..</e1> and <e2>..</e2>; re: triples; "
    "ed: event triggers; eae: arguments of the event marked <event>..</event>; ee: events with "
    "arguments; ere: event relations; openie: open tuples; table: a table (--instruction).",
)
LABELS = typer.Option(None, "--labels", "-l", help="Comma-separated labels, e.g. person,location.")
SCHEMA = typer.Option(
    None, "--schema", "-s", autocompletion=_schema_names,
    help="A built-in schema (conll2003, wnut17, crossner_politics, semeval2010, ...) or a YAML file.",
)
MODEL = typer.Option(
    None, "--model", "-m", envvar="IECLID_MODEL",
    help="A GGUF file, a name from 'ieclid models list', an alias or OWNER/REPO[:FILE] once pulled; "
    "default: 'ieclid models default' (at first smollm2-ie: the embedded SmolLM2-135M with ieclid's "
    "IE adapter).",
)
PROFILE = typer.Option(None, "--profile", help="Prompt format; default: chosen from the model's metadata.")
METHOD = typer.Option(
    Method.direct, "--method",
    help="rc only: direct (name the relation) or qa4re (a multiple-choice question, one letter).",
)
DEMOS = typer.Option(
    None, "--demos",
    help="Few-shot examples: ieclid records (JSONL), CoNLL (2-4 columns, IOB1/IOB2/BIOES), SemEval-2010, "
    "PHEE, CaRB or FewRel file.",
)
LABEL_MAP = typer.Option(
    None, "--label-map",
    help="Demonstration tags to labels, e.g. PER=person,ORG=organization (common abbreviations and "
    "schema aliases map by themselves).",
)
SHOTS = typer.Option(4, "--shots", "-k", help="How many demonstrations to use from --demos.")
MAX_CHUNK_TOKENS = typer.Option(
    256, "--max-chunk-tokens", help="Longer documents are cut into sentence-aligned chunks of this size."
)
CHUNK_OVERLAP = typer.Option(0, "--chunk-overlap", help="Sentences repeated between chunks.")
CHUNK_SENTENCES = typer.Option(
    1, "--chunk-sentences",
    help="Sentences a chunk holds at most (0: as many as --max-chunk-tokens allows). Models extract "
    "best from one sentence at a time; a document's chunks are decoded together (ere relates each "
    "event to the one before it across chunks too).",
)
PROPAGATE = typer.Option(
    True, "--propagate/--no-propagate",
    help="ner: label every other occurrence of an extracted mention's exact text too (marked "
    '"propagated": true).',
)
N_GPU_LAYERS = typer.Option(
    None, "--n-gpu-layers", help="Layers to offload; default: all when llama.cpp has GPU support, else 0."
)
CPU_COPY = typer.Option(
    True, "--cpu-copy/--no-cpu-copy",
    help="With nothing offloaded to a GPU, run a small Q4_1 or Q5_1 model (the embedded one) as its "
    "Q8_0 copy, made once under IECLID_HOME: llama.cpp's CPU kernels read prompts about twice as fast "
    "in Q8_0, and the weights are nearly the same. --no-cpu-copy runs the file as it is.",
)
CACHE_TYPE_K = typer.Option(
    CacheTypeK.auto, "--cache-type-k",
    help="The type of the attention keys in the KV cache. auto: q8_0 on the CPU (every answer attends "
    "over the whole shared cache, and llama.cpp computes that faster with q8_0 keys, at the same F1 "
    "over whole data sets) where the model's heads are a multiple of 32 wide, else f16.",
)
THREADS = typer.Option(None, "--threads", help="CPU threads; default: all cores.")
CTX = typer.Option(4096, "--ctx", help="Context size in tokens.")
SEED = typer.Option(0, "--seed", help="Seed for sampling and demonstration choice.")
TEMPERATURE = typer.Option(0.0, "--temperature", help="0 decodes greedily.")
GRAMMAR = typer.Option(
    True, "--grammar/--no-grammar", help="Constrain answers with a grammar built from the schema."
)
VERBATIM = typer.Option(
    None, "--verbatim/--free-spans",
    help="Mentions must be exact spans of the text, in reading order (every item grounds exactly, "
    "a model cannot repeat or loop), or free text grounded afterwards. Default: verbatim for the "
    "chat-json prompt labelling spans (ner, eae, ee) without demonstrations, free otherwise.",
    show_default=False,
)
EVENT_TYPE = typer.Option(
    None, "--event-type", help="eae: the marked event's type (its roles are offered); default: all roles."
)
INSTRUCTION = typer.Option(
    None, "--instruction", "-i", help='table: what to extract, e.g. "every drug with its dose".'
)
COLUMNS = typer.Option(
    None, "--columns", help="table: fix the columns, e.g. Drug,Dose; default: the model chooses."
)
QUIET = typer.Option(False, "--quiet", "-q", help="No progress bar.")
LORA = typer.Option(None, "--lora", help="A LoRA adapter GGUF (ieclid train export) applied to --model.")


class BackendName(StrEnum):
    llama_cpp = "llama-cpp"
    openai = "openai"


BACKEND = typer.Option(
    BackendName.llama_cpp, "--backend",
    help="llama-cpp: the model in this process. openai: OpenAI-compatible servers (--base-url); "
    "--model then only gives the chat template and tokenizer (its vocabulary is loaded).",
)
BASE_URL = typer.Option(
    None, "--base-url", help="openai backend: a server (http://host:port[/v1]); repeat it to spread the work."
)
PARALLEL = typer.Option(
    None, "--parallel",
    help="In-process: documents (or chunks of a long one) whose answers are decoded together in one "
    "batch (default: 8; 1 decodes one answer at a time). Any N repeats bit for bit from run to run; "
    "on the CPU every N gives the same records, on a GPU they may differ where the model's top two "
    "choices were close.",
)
CONCURRENCY = typer.Option(
    None, "--concurrency", help="openai backend: documents in flight at once (default: 4 per server)."
)
API_KEY = typer.Option(
    None, "--api-key", envvar="IECLID_API_KEY",
    help="openai backend: bearer token for the servers named. OPENAI_API_KEY is used only for "
    "https://api.openai.com.",
)
TIMEOUT = typer.Option(300.0, "--timeout", help="openai backend: seconds to wait for one answer.")


@contextmanager
def progress(total: int | None, quiet: bool, what: str) -> Iterator[Callable[[dict], None]]:
    """A callback to call per record: a rich bar on stderr when it is a terminal, else nothing."""
    if quiet or not sys.stderr.isatty():
        yield lambda _record: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = [TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(what, total=total)
        yield lambda _record: bar.advance(task)
