"""Continuous batching for the in-process backend: answers for several documents decoded together.

Extraction threads call `complete()` as usual; one engine thread owns a llama.cpp context with
room for several sequences and advances all of them with one `llama_decode` per step: one new
token for every answer being generated, plus a slice of the next prompt. Each answer keeps its
own grammar sampler; new requests join as others finish.

Shared prompt prefixes (instructions, label set, demonstrations) are evaluated once: the last
admitted prompt is kept in a reserved sequence, a new prompt evaluates only what differs from
it, and its sequence starts as a copy of that prefix (in llama.cpp's unified KV cache a copy
shares the cells, it does not duplicate them). Prompts admitted together evaluate what they
share once, in rows that belong to all their sequences. Room in the cache is counted the same
way, shared cells once, so the batch fills up with answers instead of copies of one prefix.

When requests join is up to a `Schedule` (ieclid/backends/schedule.py), which makes runs
repeatable. Where each row's KV cell lies is up to `cells.layout` (ieclid/backends/cells.py),
which on the CPU makes an answer's sums those of the answer alone, so that any number of answers
decoded together gives the same records. The context's settings, the keys' type among them
(ieclid/backends/key_cache.py), are the model's own context's.
"""

from __future__ import annotations

import ctypes
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ieclid.backends.cells import GROUP, layout, set_row
from ieclid.backends.cpu_share import CpuShare
from ieclid.backends.schedule import Schedule
from ieclid.errors import Cancelled, IeclidError
from ieclid.interrupts import block_interrupts

if TYPE_CHECKING:
    from ieclid.profiles.base import Ending

BATCH_TOKENS = 512  # tokens per llama_decode: the answers' next tokens, then prompt slices


@dataclass
class _Request:
    tokens: list[int]
    grammar: str | None
    max_tokens: int
    temperature: float
    ending: Ending | None = None
    future: Future = field(default_factory=Future)
    document: int | None = None  # set by the schedule
    generation: object = None  # llama_cpp.Generation, made when the request arrives


@dataclass
class _Sequence:
    """An admitted request (whose generation it advances): its sequence id in the KV cache, its
    next token and position."""

    request: _Request
    seq: int
    token: int
    pos: int
    cells: _Cells
    index: int = -1  # its row in the current batch


@dataclass
class _Cells:
    """The KV cells a sequence may hold: ids of the prefix cells it shares, and at most how many
    of its own (its prompt beyond the shared part, its last prompt token, its answer)."""

    shared: list[int]
    own: int


@dataclass
class _Member:
    request: _Request
    slot: int
    reused: int  # prompt tokens it takes from the cache without evaluating them
    cells: _Cells


@dataclass
class _Staged:
    """Requests admitted together whose prompts are being evaluated: rows of (token, position,
    sequence ids), fed to llama_decode as room in the batch allows."""

    members: list[_Member]
    rows: list[tuple[int, int, tuple[int, ...]]]
    fed: int = 0


def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class BatchEngine:
    def __init__(self, backend, slots: int, n_ctx: int, threads: int, share: CpuShare | None = None) -> None:
        """`share`: where given, the thread count follows the cores other processes leave free."""
        import llama_cpp as lc

        self.backend, self.lc, self.slots, self.n_ctx = backend, lc, slots, n_ctx
        self.share, self.threads = share, threads
        self.cpu = backend.n_gpu_layers == 0  # where cells are laid out as if each answer were alone
        # what requests may take: on the CPU a chunk less for the padding row, and one for the
        # chunks their cells are rounded up to
        self.room = n_ctx - 2 * GROUP if self.cpu else n_ctx
        params = lc.llama_context_params.from_buffer_copy(backend.llm.context_params)  # same settings
        params.n_ctx = n_ctx
        params.n_batch = params.n_ubatch = BATCH_TOKENS
        params.n_seq_max = slots + 4  # the answers, the reserved prefix, and three for the cells' layout
        params.kv_unified = True
        params.n_threads = params.n_threads_batch = threads
        self.ctx = lc.llama_init_from_model(backend.llm.model, params)
        if not self.ctx:
            raise IeclidError(f"llama.cpp could not make a context of {n_ctx} tokens for {slots} sequences")
        adapter = getattr(backend.llm, "_lora_adapter", None)
        if adapter is not None:
            adapters = (lc.llama_adapter_lora_p_ctypes * 1)(adapter)
            scales = (ctypes.c_float * 1)(backend.llm.lora_scale)
            lc.llama_set_adapters_lora(self.ctx, adapters, 1, scales)
        self.batch = lc.llama_batch_init(BATCH_TOKENS, 0, slots + 1)  # a shared row: every sequence
        self.prefix_seq = slots
        self.prefix: list[int] = []  # the tokens held by the reserved sequence
        self.prefix_cells: list[int] = []  # an id per cell of the reserved sequence, for counting
        self.cell_ids = 0
        self.busiest = 0  # the most answers one llama_decode has advanced together
        self.schedule = Schedule()
        self.thread = threading.Thread(target=self._run, name="ieclid-batch", daemon=True)
        self.thread.start()

    def complete(self, tokens: list[int], grammar: str | None, max_tokens: int, temperature: float,
                 ending: Ending | None = None):
        request = _Request(tokens, grammar, max_tokens, temperature, ending)
        self.schedule.submit(request)
        return request.future.result()

    def close(self) -> None:
        if self.thread.is_alive():
            self.schedule.close()
            self.thread.join()
        if self.ctx:
            self.lc.llama_batch_free(self.batch)
            self.lc.llama_free(self.ctx)
            self.ctx = None

    # The engine thread.

    def _run(self) -> None:
        block_interrupts()
        # Here, not in the caller's thread: a thread that once decodes keeps an OpenMP team, and
        # with more threads than cores in its teams libgomp spins less at barriers, and is slower.
        self.cells = layout(self.lc, self.ctx, self.batch, self.n_ctx, self.slots + 1, self.slots + 2,
                            self.slots + 3, cpu=self.cpu)
        waiting: deque[_Request] = deque()
        active: dict[int, _Sequence] = {}
        staging: _Staged | None = None
        free = list(range(self.slots))
        while True:
            arrived, closing = self.schedule.take(idle=not (active or waiting or staging))
            waiting.extend(request for request in arrived if self._prepare(request))
            if closing and not (active or waiting or staging):
                return
            if self.schedule.cancelled:
                if staging is not None:  # its prompt half evaluated: the cached prefix is unknown
                    free = self._fail_all(Cancelled("interrupted"), active, waiting, staging)
                    staging = None
                for slot, sequence in list(active.items()):  # the cached prefix stays for the next run
                    del active[slot]
                    self._finish(sequence.request, slot, free, Cancelled("interrupted"))
                while waiting:
                    self._refuse(waiting.popleft(), Cancelled("interrupted"))
                continue
            if staging is None and waiting and free:
                staging = self._admit(waiting, active, free)
            if self.share is not None and (threads := self.share.now()) != self.threads:
                self.threads = threads
                self.lc.llama_set_n_threads(self.ctx, threads, threads)
            try:
                staging = self._step(active, staging, free)
            except Exception as exc:  # every waiting caller must hear of it
                free = self._fail_all(exc, active, waiting, staging)
                staging = None

    def _fail_all(self, error: Exception, active: dict[int, _Sequence], waiting: deque[_Request],
                  staging: _Staged | None) -> list[int]:
        """Answer every request in the engine with `error` and empty the cache; returns the free
        slots (all of them)."""
        staged = [m.request for m in staging.members] if staging else []
        for request in [*(sequence.request for sequence in active.values()), *staged, *waiting]:
            self._refuse(request, error)
        active.clear()
        waiting.clear()
        self.cells.clear()
        self.prefix, self.prefix_cells = [], []
        return list(range(self.slots))

    def _prepare(self, request: _Request) -> bool:
        """Give a request its grammar sampler and generation; answer it at once (False) if its
        grammar is bad or forces the whole answer, which then needs no prompt evaluated."""
        try:
            generation = self.backend.generation(len(request.tokens), request.grammar, request.max_tokens,
                                                 request.temperature, request.ending)
        except IeclidError as exc:
            self._answer(request, error=exc)
            return False
        if generation.start():
            self._answer(request, generation.completion())
            generation.close()
            return False
        request.generation = generation
        return True

    def _admit(
        self, waiting: deque[_Request], active: dict[int, _Sequence], free: list[int]
    ) -> _Staged | None:
        """Take as many waiting requests as there are free slots and room in the KV cache for,
        whatever their answers do; those that share what the first shares with the reserved
        sequence go together. None when not even the first fits yet."""
        first = waiting[0].tokens[:-1]  # each answer evaluates its last prompt token itself
        align, span = self.cells.align, self.cells.span  # prefixes shared in whole chunks of cells
        keep = common_prefix(self.prefix, first) // align * align
        held = set(self.prefix_cells[:keep])
        own = 0
        for sequence in active.values():
            held.update(sequence.cells.shared)
            own += sequence.cells.own
        group: list[_Request] = []
        shared = len(first)
        for request in waiting:
            if len(group) == len(free):
                break
            common = common_prefix(first, request.tokens[:-1]) if group else shared
            if common < keep:
                break  # it shares less of the cached prefix: it goes in a later group
            together = min(shared, common) // align * align
            needed = len(held) + (together - keep) + own + sum(
                span(len(r.tokens) - together + r.max_tokens) for r in [*group, request])
            if needed > self.room and (group or active):
                break
            group.append(request)
            shared = min(shared, common)
        if not group:
            return None
        for _ in group:
            waiting.popleft()
        shared = shared // align * align
        if keep < len(self.prefix):
            self.cells.remove(self.prefix_seq, keep, -1)
        self.prefix = first[:shared]
        added = shared - keep
        self.prefix_cells = self.prefix_cells[:keep] + list(range(self.cell_ids, self.cell_ids + added))
        self.cell_ids += added
        members = []
        for number, request in enumerate(group):
            slot = free.pop()
            if keep:
                self.cells.copy(self.prefix_seq, slot, 0, keep)
            cells = _Cells(self.prefix_cells, span(len(request.tokens) - shared + request.max_tokens))
            members.append(_Member(request, slot, keep if number == 0 else shared, cells))
        everyone = (self.prefix_seq, *(m.slot for m in members))
        rows = [(first[pos], pos, everyone) for pos in range(keep, shared)]
        for member in members:
            tokens = member.request.tokens
            rows += [(tokens[pos], pos, (member.slot,)) for pos in range(shared, len(tokens) - 1)]
        return _Staged(members, rows)

    def _step(self, active: dict[int, _Sequence], staging, free: list[int]):
        """One llama_decode: every active answer's next token, then as much of the staged prompt
        as fits; then each answer chooses its next token. Returns the staging left."""
        self.busiest = max(self.busiest, len(active))
        answers = list(active.values())
        rows = [(sequence.token, sequence.pos, (sequence.seq,), True) for sequence in answers]
        if staging:
            while staging.fed < len(staging.rows) and len(rows) < BATCH_TOKENS - 1:  # room for a pad
                rows.append((*staging.rows[staging.fed], False))
                staging.fed += 1
        placed = self.cells.place(rows)
        for row, (i, content) in enumerate(placed):
            set_row(self.batch, row, *content)
            if 0 <= i < len(answers):
                answers[i].index = row
        if placed:
            self.batch.n_tokens = len(placed)
            status = self.lc.llama_decode(self.ctx, self.batch)
            if status != 0:
                raise IeclidError(f"llama.cpp could not decode a batch (status {status}); lower --parallel "
                                  "or raise --ctx")
        if staging and staging.fed == len(staging.rows):
            for member in staging.members:
                request, slot = member.request, member.slot
                request.generation.cached = member.reused
                last = len(request.tokens) - 1
                active[slot] = _Sequence(request, slot, request.tokens[last], last, member.cells)
            staging = None
        for slot, sequence in list(active.items()):
            if sequence.index < 0:
                continue  # admitted in this step: its last prompt token goes in the next batch
            logits = self._logits(sequence.index)
            sequence.index = -1
            error = None
            try:
                token = sequence.request.generation.next_token(logits)
            except IeclidError as exc:
                token, error = None, exc
            if token is None:
                del active[slot]
                self._finish(sequence.request, slot, free, error)
            else:
                sequence.token = token
                sequence.pos += 1
        return staging

    def _finish(self, request: _Request, slot: int, free: list[int], error: Exception | None = None) -> None:
        """Answer a request whose generation is done (or failed), and free its slot and cells."""
        self._answer(request, None if error else request.generation.completion(), error)
        request.generation.close()
        self.cells.remove(slot)
        free.append(slot)

    def _refuse(self, request: _Request, error: Exception) -> None:
        """Answer a request that will not be decoded (further) with `error`."""
        self._answer(request, error=error)
        request.generation.close()

    def _answer(self, request: _Request, result=None, error: Exception | None = None) -> None:
        self.schedule.answered(request)  # before the requester can ask again
        if error is not None:
            request.future.set_exception(error)
        else:
            request.future.set_result(result)

    def _logits(self, row: int):
        import numpy as np

        n_vocab = self.backend.n_vocab
        return np.ctypeslib.as_array(self.lc.llama_get_logits_ith(self.ctx, row), shape=(n_vocab,))
