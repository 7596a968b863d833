"""Test steps, corpus maker and output reader shared by the executor tests."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import orjson

from thresher.steps.base import Filter, Step, register


@register
class DropShort(Filter):
    """Drop documents with fewer than ``min_words`` words."""

    name = "test_drop_short"

    def __init__(self, min_words: int = 5) -> None:
        super().__init__()
        self.min_words = min_words

    def score(self, doc):
        return {"words": len(doc.text.split())}

    def keep(self, signals):
        if signals["words"] < self.min_words:
            return "too_few_words", {"value": signals["words"], "threshold": self.min_words}
        return None


@register
class Upper(Step):
    """Upper-case the first line (a text-editing step)."""

    name = "test_upper_first_line"

    def process(self, batch):
        for doc in batch:
            first, sep, rest = doc.text.partition("\n")
            doc.text = first.upper() + sep + rest
            self.count("edited")
        return batch


@register
class DieOnce(Step):
    """Kill the worker process (as SIGKILL would) on a given document while ``sentinel`` exists."""

    name = "test_die_once"

    def __init__(self, doc_id: str = "", sentinel: str = "") -> None:
        super().__init__()
        self.doc_id = doc_id
        self.sentinel = sentinel

    def process(self, batch):
        for doc in batch:
            if doc.id == self.doc_id and os.path.exists(self.sentinel):
                os.remove(self.sentinel)
                os._exit(9)
        return batch


WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()


def make_docs(n: int, prefix: str) -> list[dict]:
    docs = []
    for i in range(n):
        k = 2 + (i * 7) % 11
        text = f"title {prefix} {i}\n" + " ".join(WORDS[(i + j) % len(WORDS)] for j in range(k))
        docs.append({"id": f"{prefix}-{i}", "text": text, "url": f"https://example.org/{prefix}/{i}"})
    return docs



def read_output(outdir: Path) -> dict[str, bytes]:
    """Every output file (not the run state, not stats) by relative path, decompressed."""
    import zstandard

    files = {}
    for path in sorted(outdir.rglob("part-*")):
        data = path.read_bytes()
        if path.suffix == ".zst":
            data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
        files[str(path.relative_to(outdir))] = data
    return files


def write_corpus(folder: Path) -> Path:
    """Three input files (plain, gzip, gzip) of 120, 80 and 50 documents."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, n, gz in (("a.jsonl", 120, False), ("b.jsonl.gz", 80, True), ("c.jsonl.gz", 50, True)):
        data = b"".join(orjson.dumps(d) + b"\n" for d in make_docs(n, name.split(".")[0]))
        (folder / name).write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return folder
