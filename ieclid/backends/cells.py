"""Where the batch engine's tokens lie in llama.cpp's KV cache, so that company changes no sum.

In the unified KV cache every row of a batch attends over every cell, the other sequences'
masked. llama.cpp's CPU kernels sum attention in SIMD lanes by cell index (16 floats wide with
AVX-512, 8 with AVX2): the softmax adds up 16-cell chunks, and the weighted sum of values keeps
one accumulator per lane. Masked cells add exact zeros, so what a sequence computes depends on
which chunk and lane each of its own cells lies in, and on nothing else of its company (checked:
a sequence behind another's cells gives its logits bit for bit when the offset is a multiple of
16, and not for most other offsets). One sequence alone holds position p in cell p. llama.cpp
puts a batch's tokens in the first free cells it finds, which interleaves the sequences decoded
together, and that changed records between `--parallel 8` and `1`.

`AlignedCells` keeps the layout of a sequence alone: positions 16j to 16j+15 of a sequence lie in
one 16-cell chunk, position p in lane p % 16, and its chunks ascend. A shared prefix shares whole
chunks only (the part of a prompt in the chunk where the prefix ends is evaluated for each
sequence). llama.cpp cannot be told where to put a token: it takes the free cells from its search
head on, in order. So every cell below the highest chunk in use is held, by a token or by a
filler sequence that holds position c in cell c, except the cells the next batch is meant for:
those are freed from the filler just before it, and its rows are fed in the order of their
cells. Cells a sequence leaves go back to the filler, written in with llama_state_seq_set_data
(zeros, no decoding). The matrix kernels for one row sum in another order than those for
several, so a batch of one row gets a padding row (`place`). Where any of this goes wrong, only
the sums move: masks are llama.cpp's own.
"""

from __future__ import annotations

import ctypes
import struct
from collections import defaultdict

from ieclid.errors import IeclidError

Row = tuple[int, int, tuple[int, ...], bool]  # token, position, sequences, logits wanted
GROUP = 16  # cells in a chunk: a multiple of every CPU's SIMD width that llama.cpp sums in


def set_row(batch, row: int, token: int, pos: int, seqs: tuple[int, ...], logits: bool) -> None:
    """Write one row of a llama_batch: a token at a position, the sequences it belongs to (a
    shared prefix row belongs to several), and whether its logits are wanted."""
    batch.token[row] = token
    batch.pos[row] = pos
    batch.n_seq_id[row] = len(seqs)
    for number, seq in enumerate(seqs):
        batch.seq_id[row][number] = seq
    batch.logits[row] = logits


class LlamaCells:
    """The KV cache laid out by llama.cpp itself: each batch goes where it finds room."""

    align = 1  # shared prefixes and room are counted in whole chunks of this many cells

    def __init__(self, lc, ctx) -> None:
        self.lc, self.ctx, self.memory = lc, ctx, lc.llama_get_memory(ctx)

    def place(self, rows: list[Row]) -> list[tuple[int, Row]]:
        """The rows (token, position, sequences, logits wanted) to feed llama_decode, in order,
        each with its index in `rows` (-1: a row added for the layout's sake)."""
        return list(enumerate(rows))

    def remove(self, seq: int, p0: int = -1, p1: int = -1) -> None:
        self.lc.llama_memory_seq_rm(self.memory, seq, p0, p1)

    def copy(self, src: int, dst: int, p0: int, p1: int) -> None:
        self.lc.llama_memory_seq_cp(self.memory, src, dst, p0, p1)

    def clear(self) -> None:
        self.lc.llama_memory_clear(self.memory, True)

    def span(self, cells: int) -> int:
        """Room that `cells` of one sequence's own take up."""
        return -(-cells // self.align) * self.align


class AlignedCells(LlamaCells):
    """Each sequence's cells laid out as if it were alone (see the module's docstring)."""

    align = GROUP

    def __init__(self, lc, ctx, n_ctx: int, filler: int, scratch: int, pad: int, blob: _Blob) -> None:
        super().__init__(lc, ctx)
        self.filler, self.scratch, self.pad, self.blob = filler, scratch, pad, blob
        self.n_chunks = n_ctx // GROUP
        self.reset()

    def reset(self) -> None:
        self.holders: dict[int, set[int]] = {}  # cell -> the sequences holding it (absent: free)
        self.at: dict[int, dict[int, int]] = defaultdict(dict)  # sequence -> position -> cell
        self.chunks: dict[tuple[int, int], int] = {}  # (sequence, position // GROUP) -> chunk
        self.keys: dict[int, tuple[int, int]] = {}  # chunk -> its key in `chunks`
        self.spare: set[int] = set()  # chunks below `top` held by the filler alone
        self.top = 0  # chunks from here on are free and were never filled

    def place(self, rows: list[Row]) -> list[tuple[int, Row]]:
        """Free each row's cell (a shared row's cell is its first sequence's, the prefix's) from
        the filler; llama.cpp then fills them in the returned order.

        A batch of one row, or one that wants the logits of one row, gets a row of a padding
        sequence too: llama.cpp's CPU matrix kernels for one row sum in another order than those
        for several (over a 596-token prompt its last token's logits moved by up to 0.49)."""
        if rows and (len(rows) == 1 or sum(row[3] for row in rows) == 1):
            self.remove(self.pad)
            rows = [*rows, (0, 0, (self.pad,), True)]
        cells = []
        for _token, pos, seqs, _logits in rows:
            key = (seqs[0], pos // GROUP)
            chunk = self.chunks.get(key)
            if chunk is None:
                # above every cell its sequences hold, so that their chunks ascend with position
                above = max((cell for seq in seqs for cell in self.at[seq].values()), default=-1) // GROUP
                chunk = self.chunks[key] = self._chunk(above)
                self.keys[chunk] = key
            cells.append(chunk * GROUP + pos % GROUP)
        order = sorted(range(len(rows)), key=cells.__getitem__)
        placed = []
        start = None
        for n, i in enumerate(order):
            cell = cells[i]
            if start is None:
                start = cell
            if n + 1 == len(order) or cells[order[n + 1]] != cell + 1:
                self.lc.llama_memory_seq_rm(self.memory, self.filler, start, cell + 1)
                start = None
            _token, pos, seqs, _logits = rows[i]
            self.holders[cell] = set(seqs)
            for seq in seqs:
                self.at[seq][pos] = cell
            placed.append((i if seqs[0] != self.pad else -1, rows[i]))
        return placed

    def remove(self, seq: int, p0: int = -1, p1: int = -1) -> None:
        super().remove(seq, p0, p1)
        lo, hi = max(p0, 0), p1 if p1 >= 0 else 1 << 31
        held = self.at[seq]
        freed, groups = [], set()
        for pos in [p for p in held if lo <= p < hi]:
            cell = held.pop(pos)
            groups.add(pos // GROUP)
            holders = self.holders[cell]
            holders.discard(seq)
            if not holders:
                freed.append(cell)
        for group in groups:
            chunk = self.chunks.get((seq, group))
            if chunk is not None and not any(group * GROUP + k in held for k in range(GROUP)):
                del self.chunks[(seq, group)], self.keys[chunk]
        if freed:
            self._fill(sorted(freed))
            for chunk in {cell // GROUP for cell in freed}:
                self._maybe_spare(chunk)
            self._shrink()

    def copy(self, src: int, dst: int, p0: int, p1: int) -> None:
        super().copy(src, dst, p0, p1)
        lo, hi = max(p0, 0), p1 if p1 >= 0 else 1 << 31
        into = self.at[dst]
        for pos, cell in self.at[src].items():
            if lo <= pos < hi:
                into[pos] = cell
                self.holders[cell].add(dst)

    def clear(self) -> None:
        super().clear()
        self.reset()

    def _chunk(self, above: int) -> int:
        """The lowest chunk past `above` that the filler holds whole, or a new one on top (filled
        first, so that llama.cpp finds no free cell below the ones meant for the batch)."""
        chunk = min((c for c in self.spare if c > above), default=None)
        if chunk is not None:
            self.spare.discard(chunk)
            return chunk
        if self.top == self.n_chunks:
            raise IeclidError("the KV cache is full; lower --parallel or raise --ctx")
        chunk = self.top
        self._fill(list(range(chunk * GROUP, (chunk + 1) * GROUP)))
        self.top += 1
        return chunk

    def _fill(self, cells: list[int]) -> None:
        """Hand free `cells` (ascending, the only free cells below `top`) to the filler: llama.cpp
        puts restored cells in the free cells from its head on, in order, and its head is at or
        below the first of them."""
        data = self.blob.cells(cells, self.scratch)
        buffer = (ctypes.c_uint8 * len(data)).from_buffer(data)
        if self.lc.llama_state_seq_set_data(self.ctx, buffer, len(data), self.scratch) != len(data):
            raise IeclidError("llama.cpp could not lay out the KV cache (state restore failed)")
        self.lc.llama_memory_seq_cp(self.memory, self.scratch, self.filler, -1, -1)
        self.lc.llama_memory_seq_rm(self.memory, self.scratch, -1, -1)
        for cell in cells:
            self.holders[cell] = {self.filler}

    def _maybe_spare(self, chunk: int) -> None:
        cells = range(chunk * GROUP, (chunk + 1) * GROUP)
        if chunk not in self.keys and all(self.holders.get(cell) == {self.filler} for cell in cells):
            self.spare.add(chunk)

    def _shrink(self) -> None:
        """Give the top chunks back to llama.cpp when the filler holds them alone, so that rows
        attend over no more cells than the ones in use (llama.cpp rounds up to 256)."""
        while self.top and self.top - 1 in self.spare:
            self.top -= 1
            self.spare.discard(self.top)
            self.lc.llama_memory_seq_rm(self.memory, self.filler, self.top * GROUP, (self.top + 1) * GROUP)
            for cell in range(self.top * GROUP, (self.top + 1) * GROUP):
                del self.holders[cell]


class _Blob:
    """llama.cpp's saved state of one sequence's cells (`llama_state_seq_get_data`), to write
    filler cells with: read from a real one-cell state, so that a format it does not know (a
    cell extension, a layer without values) is refused, not guessed."""

    def __init__(self, magic: int, k_rows: list[tuple[int, int]], v_trans: bool,
                 v_parts: list[tuple[int, int, int]]) -> None:
        self.magic, self.k_rows, self.v_trans, self.v_parts = magic, k_rows, v_trans, v_parts

    @classmethod
    def read(cls, data: bytes) -> _Blob | None:
        try:
            magic, _seq, n_stream, count, _pos, n_seq, _seq, v_trans, n_layer = struct.unpack_from(
                "<IiIIiIiII", data)
            if (n_stream, count, n_seq) != (1, 1, 1):
                return None
            offset = 36
            k_rows = []
            for _ in range(n_layer):
                k_type, size = struct.unpack_from("<iQ", data, offset)
                k_rows.append((k_type, size))
                offset += 12 + size
            v_parts = []
            for _ in range(n_layer):
                if v_trans:
                    v_type, element, n_embd = struct.unpack_from("<iII", data, offset)
                    v_parts.append((v_type, element, n_embd))
                    offset += 12 + element * n_embd
                else:
                    v_type, size = struct.unpack_from("<iQ", data, offset)
                    v_parts.append((v_type, size, 1))
                    offset += 12 + size
        except struct.error:
            return None
        return cls(magic, k_rows, bool(v_trans), v_parts) if offset == len(data) else None

    def cells(self, positions: list[int], seq: int) -> bytearray:
        """A state of len(positions) cells of `seq` at those positions, keys and values zero."""
        n = len(positions)
        head = [struct.pack("<IiII", self.magic, seq, 1, n)]
        head += [struct.pack("<iIi", pos, 1, seq) for pos in positions]
        head.append(struct.pack("<II", int(self.v_trans), len(self.k_rows)))
        data = bytearray(b"".join(head))
        for k_type, size in self.k_rows:
            data += struct.pack("<iQ", k_type, size) + bytes(n * size)
        for v_type, element, n_embd in self.v_parts:
            if self.v_trans:
                data += struct.pack("<iII", v_type, element, n_embd) + bytes(n * element * n_embd)
            else:
                data += struct.pack("<iQ", v_type, element) + bytes(n * element)
        return data


def layout(lc, ctx, batch, n_ctx: int, filler: int, scratch: int, pad: int, cpu: bool) -> LlamaCells:
    """AlignedCells where llama.cpp computes on the CPU and its state format is the one read
    here (from one cell decoded in `batch`); otherwise llama.cpp's own layout (GPU kernels change
    with the batch's shape anyway)."""
    if not cpu:
        return LlamaCells(lc, ctx)
    set_row(batch, 0, 0, 0, (scratch,), False)
    batch.n_tokens = 1
    if lc.llama_decode(ctx, batch) != 0:
        return LlamaCells(lc, ctx)
    size = lc.llama_state_seq_get_size(ctx, scratch)
    buffer = (ctypes.c_uint8 * size)()
    written = lc.llama_state_seq_get_data(ctx, buffer, size, scratch)
    lc.llama_memory_clear(lc.llama_get_memory(ctx), True)
    blob = _Blob.read(bytes(buffer)[:written])
    return AlignedCells(lc, ctx, n_ctx, filler, scratch, pad, blob) if blob else LlamaCells(lc, ctx)
