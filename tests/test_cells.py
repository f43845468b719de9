"""The batch engine's KV layout on the CPU: every sequence's cells lie as if it were alone, so
records do not depend on how many answers are decoded together."""

import ctypes
import struct

from ieclid.assembly import open_extractor
from ieclid.backends import batching
from ieclid.backends.cells import GROUP, AlignedCells, _Blob
from ieclid.datasets import read_conll
from ieclid.documents import Document
from ieclid.run import extract_records
from ieclid.settings import RunSettings


def records(sentences: list[str], sequences: int) -> list[dict]:
    settings = RunSettings(task="ner", schema="wnut17", model="smollm2", threads=2, sequences=sequences)
    extractor, backend = open_extractor(settings)
    try:
        documents = [Document(str(n), text) for n, text in enumerate(sentences)]
        found = list(extract_records(extractor, documents, settings.in_flight))
    finally:
        backend.close()
    for record in found:
        for key in ("seconds", "cached_prompt_tokens"):  # the only figures company may change
            record["usage"].pop(key)
    return found


def test_records_do_not_depend_on_how_many_answers_share_a_batch(shared_data):
    sentences = [d.text for d in list(read_conll(shared_data / "wnut17" / "test.conll"))[:20]]
    alone, together = records(sentences, 1), records(sentences, 6)
    assert alone == together  # scores included, bit for bit
    assert sum(len(r["entities"]) for r in alone) > 0


def cells_in_llama_order(ctx, seq: int) -> list[int]:
    """The positions of a sequence's cells in the order llama.cpp keeps them (cell order)."""
    import llama_cpp as lc

    size = lc.llama_state_seq_get_size(ctx, seq)
    buffer = (ctypes.c_uint8 * size)()
    lc.llama_state_seq_get_data(ctx, buffer, size, seq)
    data = bytes(buffer)
    (count,) = struct.unpack_from("<I", data, 12)  # after the magic, the sequence and the stream count
    return [struct.unpack_from("<i", data, 16 + 12 * n)[0] for n in range(count)]


def test_llama_cpp_puts_every_token_where_the_layout_meant(shared_data, monkeypatch):
    """After every step, each sequence's cells in llama.cpp's order are the layout's, position p
    lies in lane p % GROUP, and a sequence's chunks ascend with its positions."""
    checked = []
    step = batching.BatchEngine._step

    def checking_step(self, active, staging, free):
        left = step(self, active, staging, free)
        cells = self.cells
        assert isinstance(cells, AlignedCells)
        for seq, held in cells.at.items():
            if not held or seq == cells.pad:
                continue
            ordered = sorted(held.items(), key=lambda item: item[1])
            assert cells_in_llama_order(self.ctx, seq) == [pos for pos, _ in ordered]
            assert all(cell % GROUP == pos % GROUP for pos, cell in ordered)
            assert [pos for pos, _ in ordered] == sorted(held)
            checked.append(seq)
        return left

    monkeypatch.setattr(batching.BatchEngine, "_step", checking_step)
    sentences = [d.text for d in list(read_conll(shared_data / "wnut17" / "test.conll"))[:10]]
    records(sentences, 3)
    assert len(set(checked)) > 3  # the answers' slots and the shared prefix


def test_an_unknown_state_format_is_refused_not_guessed():
    assert _Blob.read(b"") is None
    assert _Blob.read(struct.pack("<IiIIiIi", 0xAF143CD8, 0, 2, 1, 0, 1, 0)) is None  # two streams
