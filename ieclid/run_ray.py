"""`--engine ray`: a run's records made by a pool of Ray actors, for corpora beyond one machine.

The documents become a Ray Dataset read from the same paths as a local run (`--lines` and
`--glob` alike): read tasks run ieclid's own readers on the workers, so the corpus does not
flow through this process on its way in. Each actor holds one model (the in-process backend,
with a GPU where the cluster has them and `--n-gpu-layers` allows) and extracts batches of
documents as a local run does, several in flight; Ray schedules the batches, retries those of
an actor that died (Ray Data restarts it, its model loaded again), and holds back the reading
when the actors fall behind. The records come back here in input order and are written as a local
run's are; at temperature 0 on CPUs they are the local run's records.

Ray is an optional dependency (`pip install 'ieclid[ray]'`), imported only here.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict

import orjson

from ieclid.documents import Document
from ieclid.errors import IeclidError, UsageError
from ieclid.settings import RunSettings

# Documents an actor takes at once: enough for its batch engine to fill its batches.
BATCH_DOCUMENTS = 32
# The CPU a read task asks for: none, since reading is light and the actors may hold every CPU
# (one each by default): a read task asking for any would wait for ever.
READ_CPUS = 0


def import_ray():
    try:
        import ray
        import ray.data  # Ray Data is the `ray[data]` part
    except ImportError:
        raise UsageError("--engine ray needs Ray Data: pip install 'ieclid[ray]'") from None
    return ray


class RayRecords:
    """Records of the documents in `paths` (read as `read_documents` reads them) extracted on a
    Ray cluster (`address`; None: RAY_ADDRESS, or a Ray started here for the run) by `actors`
    actors (None: one per GPU the cluster has, or as many as its CPUs hold at `--threads` each).
    With `read_here` the documents given to `records` are the ones extracted (a resumed run's,
    those not done yet), read here instead of on the workers."""

    def __init__(self, settings: RunSettings, digest: str, paths: list[str], lines: bool = False,
                 address: str | None = None, actors: int | None = None, read_here: bool = False) -> None:
        if actors is not None and actors < 1:
            raise UsageError("--actors must be at least 1")
        ray = import_ray()
        self.ray = ray
        self.started_here = not ray.is_initialized()
        if self.started_here:
            address = address or os.environ.get("RAY_ADDRESS")
            if address:
                check_reachable(address)
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.ERROR)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = f"the Ray cluster at {address}" if address else "a local Ray"
                first = str(exc).splitlines()[0]
                raise IeclidError(f"--engine ray: could not join {where}: {first}") from None
        resources = ray.cluster_resources()
        self.gpus_each = 1 if resources.get("GPU", 0) >= 1 and settings.n_gpu_layers != 0 else 0
        self.cpus_each = settings.threads or 1
        if actors is None:
            held = resources["GPU"] if self.gpus_each else resources.get("CPU", 1) // self.cpus_each
            actors = int(held)
        self.actors = max(1, actors)
        self.settings, self.digest, self.paths, self.lines = settings, digest, paths, lines
        self.read_here = read_here

    def records(self, documents: Iterable[Document]) -> Iterator[dict]:
        """Records in input order. `documents` (read from `paths` here) are taken only from
        standard input or with `read_here`; files are otherwise read on the workers (`dataset`)."""
        dataset = self.dataset(documents)
        if dataset is None:
            return  # nothing to extract (a resumed run whose documents are all done)
        for name in ("ray", "ray.data"):  # its progress lines and advice are not ieclid's
            logging.getLogger(name).setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"ray\.")
        extracted = dataset.map_batches(
            _Actor, fn_constructor_kwargs={"settings": asdict(self.settings)},
            batch_size=BATCH_DOCUMENTS, batch_format="pyarrow",
            compute=self.ray.data.ActorPoolStrategy(size=self.actors),
            num_cpus=self.cpus_each, num_gpus=self.gpus_each,
        )
        for batch in extracted.iter_batches(batch_format="pyarrow", batch_size=None):
            for line in batch.column("record").to_pylist():
                yield orjson.loads(line)

    def dataset(self, documents: Iterable[Document]):
        """The documents as a Ray Dataset, in input order; None when there are none."""
        context = self.ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        from ieclid.run_ray_source import DocumentSource, row_of

        if "-" not in self.paths and not self.read_here:
            return self.ray.data.read_datasource(DocumentSource(self.paths, self.lines), num_cpus=READ_CPUS)
        rows = [row_of(doc) for doc in documents]
        return self.ray.data.from_items(rows) if rows else None

    def close(self) -> None:
        if self.started_here:
            self.ray.shutdown()


def open_ray(settings: RunSettings, paths: list[str], lines: bool = False, address: str | None = None,
             actors: int | None = None, say: Callable[[str], None] | None = None,
             read_here: bool = False) -> RayRecords:
    """RayRecords for a run, after the checks a local run makes before its model loads."""
    from ieclid.assembly import check_run

    digest = check_run(settings, say)[-1]
    if say:
        say("starting Ray")
    return RayRecords(settings, digest, paths, lines, address, actors, read_here)


def check_reachable(address: str, seconds: float = 5.0) -> None:
    """Fail in one line, and soon, where a cluster's `host:port` (or `ray://host:port`) does not
    answer: Ray itself would keep trying to reach it for minutes."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # `auto`, `local`: Ray's own names, checked by Ray
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except OSError as exc:
        why = exc.strerror or exc
        raise IeclidError(f"--engine ray: no Ray cluster answers at {address} ({why})") from None


class _Actor:
    """One model, loaded once, extracting batch after batch as a local run does."""

    def __init__(self, settings: dict) -> None:
        from ieclid.assembly import open_extractor

        self.run = RunSettings(**settings)
        self.extractor, self.backend = open_extractor(self.run)

    def __call__(self, batch):
        import pyarrow as pa

        from ieclid.run import extract_records
        from ieclid.run_ray_source import document_of

        documents = [document_of(row) for row in batch.to_pylist()]
        records = extract_records(self.extractor, documents, self.run.in_flight)
        return pa.table({"record": [orjson.dumps(record).decode() for record in records]})
