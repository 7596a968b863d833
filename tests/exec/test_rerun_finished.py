"""Running the same command again on a finished run folder changes nothing and does not fail."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.exec.support import make_docs, read_output
from thresher import parse_recipe, run

RECIPE = """
description: rerun test
batch_size: 8
writer: {rejected: true}
steps:
  - exact_dedup
  - minhash: {bands: 4, rows: 8, n_grams: 2}
"""


def test_rerunning_a_finished_run_with_corpus_steps_is_a_no_op(tmp_path: Path) -> None:
    corpus = tmp_path / "in"
    corpus.mkdir()
    docs = make_docs(40, "doc")
    docs += [dict(d, id=f"copy-{d['id']}", text=d["text"] + " extra") for d in docs[::5]]
    (corpus / "a.jsonl").write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in docs))
    first = run([corpus], tmp_path / "out", parse_recipe(RECIPE), workers=1)
    files = read_output(tmp_path / "out")
    assert first.stats["documents"]["dropped"] > 0
    assert not (tmp_path / "out" / ".thresher" / "work").exists()

    again = run([corpus], tmp_path / "out", parse_recipe(RECIPE), workers=2)
    assert again.stats == first.stats
    assert read_output(tmp_path / "out") == files
