"""Options shared by commands, declared once: the run options of `extract` and `eval`, the
training recipe options of `train sft` and `train dpo`. `with_options` adds a group to a
command, which receives the group's values as `**options`."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from ieclid.task_specs import TASKS

Task = StrEnum("Task", {name: name for name in TASKS})  # type: ignore[misc]


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
    Task("ner"), "--task", "-t",
    help="; ".join(f"{spec.name}: {spec.summary}" for spec in TASKS.values()) + ".",
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
MIN_SCORE = typer.Option(
    0.0, "--min-score",
    help="Leave out items (entities, triples, events, arguments, tuples) whose least likely token the "
    "model chose with less than this probability (their `score`): 0.4 raises precision where a model "
    "lists too much (noisy short texts), and costs recall where names are dense.",
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
THREADS = typer.Option(
    None, "--threads", help="CPU threads; default: the cores other processes leave free, checked each second."
)
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


class ServerKind(StrEnum):
    auto = "auto"
    llama_cpp = "llama.cpp"
    vllm = "vllm"
    unconstrained = "unconstrained"


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
SERVER_KIND = typer.Option(
    ServerKind.auto, "--server-kind",
    help="openai backend: how the servers take the grammar: llama.cpp's `grammar` field, vLLM's "
    "structured outputs, or none (answers then come unconstrained); auto asks the server.",
)


# The options of a model run (`extract`, `eval`), in the order --help lists them: name -> (type,
# declaration). Their names are RunSettings' fields (see RunSettings.from_options).
RUN_OPTIONS: dict[str, tuple[Any, Any]] = {
    "task": (Task, TASK), "labels": (str, LABELS), "schema": (str, SCHEMA), "model": (str, MODEL),
    "lora": (str, LORA), "profile": (ProfileName, PROFILE), "method": (Method, METHOD),
    "instruction": (str, INSTRUCTION), "columns": (str, COLUMNS), "demos": (str, DEMOS),
    "label_map": (str, LABEL_MAP), "shots": (int, SHOTS), "max_chunk_tokens": (int, MAX_CHUNK_TOKENS),
    "chunk_sentences": (int, CHUNK_SENTENCES), "chunk_overlap": (int, CHUNK_OVERLAP),
    "propagate": (bool, PROPAGATE), "min_score": (float, MIN_SCORE), "n_gpu_layers": (int, N_GPU_LAYERS),
    "cpu_copy": (bool, CPU_COPY),
    "cache_type_k": (CacheTypeK, CACHE_TYPE_K), "threads": (int, THREADS), "ctx": (int, CTX),
    "seed": (int, SEED), "temperature": (float, TEMPERATURE), "grammar": (bool, GRAMMAR),
    "verbatim": (bool | None, VERBATIM), "quiet": (bool, QUIET), "backend_name": (BackendName, BACKEND),
    "base_url": (list[str], BASE_URL), "parallel": (int, PARALLEL), "concurrency": (int, CONCURRENCY),
    "api_key": (str, API_KEY), "timeout": (float, TIMEOUT), "server_kind": (ServerKind, SERVER_KIND),
}

# The recipe options of `train sft` and `train dpo`; see RECIPE_KEYS for what they override.
TRAIN_OPTIONS: dict[str, tuple[Any, Any]] = {
    "out": (Path, typer.Option(..., "--out", "-o", help="Run directory: settings, metrics, final/ result.")),
    "settings_file": (Path, typer.Option(
        None, "--config", help="Recipe YAML (default: train/sft.yaml or train/dpo.yaml).")),
    "epochs": (float, typer.Option(None, "--epochs", help="Passes over the data.")),
    "max_steps": (int, typer.Option(None, "--max-steps", help="Stop after this many optimizer steps.")),
    "batch_size": (int, typer.Option(
        None, "--batch-size", help="Examples (dpo: preference pairs) per device and step.")),
    "grad_accum": (int, typer.Option(None, "--grad-accum", help="Steps accumulated per update.")),
    "learning_rate": (float, typer.Option(None, "--lr", help="Peak learning rate.")),
    "max_length": (int, typer.Option(
        None, "--max-length", help="Tokens per example (dpo: per pair) at most.")),
    "bf16": (bool, typer.Option(
        None, "--bf16/--fp32", help="Compute in bf16 (mixed precision) or fp32; default: bf16 where "
        "the GPU or CPU has it natively.")),
    "minutes": (float, typer.Option(
        None, "--time-limit", help="Stop (with a checkpoint) after this many minutes; see --resume.")),
    "resume": (bool, typer.Option(
        False, "--resume", help="Continue the run in --out from its last checkpoint, with its settings.")),
}
# TRAIN_OPTIONS that override the recipe file, by the recipe's (TRL's) names.
RECIPE_KEYS = {
    "epochs": "num_train_epochs", "max_steps": "max_steps", "batch_size": "per_device_train_batch_size",
    "grad_accum": "gradient_accumulation_steps", "learning_rate": "learning_rate", "max_length": "max_length",
    "bf16": "bf16",
}


def with_options(group: dict[str, tuple[Any, Any]]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add `group`'s options to a command, listed after its own; the command takes them as
    `**options`. Typer reads a command's parameters from its signature and type hints, so the
    wrapper shows it both."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        hints = typing.get_type_hints(command)
        keyword = inspect.Parameter.KEYWORD_ONLY
        shared = [inspect.Parameter(name, keyword, default=option, annotation=kind)
                  for name, (kind, option) in group.items()]
        own = [
            parameter.replace(kind=keyword, annotation=hints.get(name, parameter.annotation))
            for name, parameter in inspect.signature(command).parameters.items()
            if parameter.kind is not inspect.Parameter.VAR_KEYWORD
        ]

        @functools.wraps(command)
        def wrapper(**values: Any) -> Any:
            return command(**values)

        wrapper.__signature__ = inspect.Signature(own + shared)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in own + shared}
        return wrapper

    return decorate
