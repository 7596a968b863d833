"""Corpus steps through the executor: duplicates across shards and workers, crash between stages."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.exec.support import make_docs, read_output
from thresher import parse_recipe, run
from thresher.errors import ThresherError


def _corpus_with_copies(folder: Path) -> Path:
    folder.mkdir()
    base = make_docs(60, "orig")
    for n, name in enumerate(("x.jsonl", "y.jsonl", "z.jsonl")):
        docs = [dict(d, id=f"{name}-{d['id']}") for d in base[n * 20:(n + 1) * 20]]
        # every file also carries copies of documents of the other files, with case/space changes
        copies = [dict(d, id=f"{name}-copy-{d['id']}", text=d["text"].upper() + "  ") for d in base[::7]]
        (folder / name).write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in docs + copies))
    return folder


RECIPE = """
description: dedup test
batch_size: 8
writer: {rejected: true}
steps:
  - exact_dedup
"""


def _ids(files: dict[str, bytes], prefix: str) -> list[dict]:
    return [orjson.loads(x) for name, data in files.items() if name.startswith(prefix) for x in data.splitlines()]


def test_exact_dedup_across_shards_identical_for_any_worker_count(tmp_path: Path) -> None:
    corpus = _corpus_with_copies(tmp_path / "in")
    run([corpus], tmp_path / "w1", parse_recipe(RECIPE), workers=1)
    run([corpus], tmp_path / "w2", parse_recipe(RECIPE), workers=2)
    one, two = read_output(tmp_path / "w1"), read_output(tmp_path / "w2")
    assert one == two
    kept, rejected = _ids(one, "part-"), _ids(one, "rejected/")
    assert len(kept) == 60  # the originals; every copy is a duplicate
    assert len(rejected) == 3 * 9
    kept_ids = {d["id"] for d in kept}
    for doc in rejected:
        assert doc["metadata"]["dropped"]["reason"] == "duplicate"
        assert doc["metadata"]["dropped"]["duplicate_of"] in kept_ids
    stats = orjson.loads((tmp_path / "w2" / "stats.json").read_bytes())
    assert stats["documents"] == {**stats["documents"], "read": 87, "kept": 60, "dropped": 27}
    assert "exact_dedup" in stats["corpus_steps"]


def test_crash_after_dedup_decision_resumes_to_same_output(tmp_path: Path) -> None:
    corpus = _corpus_with_copies(tmp_path / "in")
    sentinel = tmp_path / "die"
    sentinel.write_text("1")
    recipe = parse_recipe(RECIPE + f"  - test_die_once: {{doc_id: y.jsonl-orig-30, sentinel: '{sentinel}'}}\n")
    with pytest.raises(ThresherError):
        run([corpus], tmp_path / "o", recipe, workers=2)
    assert (tmp_path / "o" / ".thresher" / "work").exists()  # work kept for the resume
    run([corpus], tmp_path / "o", recipe, workers=2)
    run([corpus], tmp_path / "ref", recipe, workers=1)
    assert read_output(tmp_path / "o") == read_output(tmp_path / "ref")
