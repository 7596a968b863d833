"""The local executor: outputs, stats, determinism across worker counts, resume after a crash."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.exec.support import read_output
from thresher import parse_recipe, run
from thresher.errors import UsageError

RECIPE = """
description: test
batch_size: 16
writer: {rejected: true}
steps:
  - test_upper_first_line
  - test_drop_short: {min_words: 6}
"""


def _docs(files: dict[str, bytes], prefix: str = "part-") -> list[dict]:
    out = []
    for name, data in files.items():
        if name.startswith(prefix):
            out.extend(orjson.loads(line) for line in data.splitlines())
    return out


def test_run_writes_kept_rejected_and_stats(corpus: Path, tmp_path: Path) -> None:
    outdir = tmp_path / "out"
    result = run([corpus], outdir, parse_recipe(RECIPE), workers=1)
    files = read_output(outdir)
    kept = _docs(files)
    rejected = _docs(files, "rejected/")
    assert len(kept) + len(rejected) == 250
    assert all(len(d["text"].split("\n", 1)[1].split()) + 3 >= 6 for d in kept)
    assert all(d["text"].startswith("TITLE") for d in kept)
    assert {d["metadata"]["dropped"]["reason"] for d in rejected} == {"too_few_words"}
    assert all(d["metadata"]["dropped"]["step"] == "test_drop_short" for d in rejected)
    assert all("test_drop_short.words" in d["metadata"]["signals"] for d in kept)
    stats = orjson.loads((outdir / "stats.json").read_bytes())
    assert stats == result.stats
    assert stats["documents"]["read"] == 250
    assert stats["documents"]["kept"] == len(kept)
    assert stats["dropped_by_reason"] == {"test_drop_short/too_few_words": len(rejected)}
    upper = next(s for s in stats["steps"] if s["name"] == "test_upper_first_line")
    assert upper["counters"]["edited"] == 250
    assert sorted(p for p in files if not p.startswith("rejected")) == [
        "part-00000.jsonl.zst", "part-00001.jsonl.zst", "part-00002.jsonl.zst",
        "signals/part-00000.parquet", "signals/part-00001.parquet", "signals/part-00002.parquet",
    ]
    assert not (outdir / ".thresher" / "work").exists()


def test_output_identical_for_one_and_two_workers(corpus: Path, tmp_path: Path) -> None:
    recipe = parse_recipe(RECIPE)
    run([corpus], tmp_path / "w1", recipe, workers=1)
    run([corpus], tmp_path / "w2", recipe, workers=2)
    assert read_output(tmp_path / "w1") == read_output(tmp_path / "w2")


def test_resume_after_killed_worker_gives_identical_output(corpus: Path, tmp_path: Path) -> None:
    sentinel = tmp_path / "die"
    sentinel.write_text("1")
    recipe = parse_recipe(RECIPE + f"  - test_die_once: {{doc_id: c-10, sentinel: '{sentinel}'}}\n")
    outdir = tmp_path / "crashy"
    from thresher.errors import ThresherError

    with pytest.raises(ThresherError, match="rerun the same command to resume"):
        run([corpus], outdir, recipe, workers=2)
    assert not sentinel.exists()
    assert not (outdir / "stats.json").exists()
    leftover = outdir / ".part-00002.jsonl.zst.tmp-99999"  # as a writer killed mid-file leaves it
    leftover.write_bytes(b"half a file")
    result = run([corpus], outdir, recipe, workers=2)
    assert not leftover.exists()
    reference = tmp_path / "clean"
    run([corpus], reference, recipe, workers=1)  # the sentinel is gone: nobody dies
    assert read_output(outdir) == read_output(reference)
    assert result.stats["documents"]["read"] == 250


def test_rerun_of_finished_run_changes_nothing(corpus: Path, tmp_path: Path) -> None:
    recipe = parse_recipe(RECIPE)
    first = run([corpus], tmp_path / "o", recipe, workers=1)
    before = read_output(tmp_path / "o")
    second = run([corpus], tmp_path / "o", recipe, workers=2)
    assert read_output(tmp_path / "o") == before
    assert first.stats["documents"] == second.stats["documents"]


def test_other_recipe_into_same_folder_is_refused(corpus: Path, tmp_path: Path) -> None:
    run([corpus], tmp_path / "o", parse_recipe(RECIPE), workers=1)
    with pytest.raises(UsageError, match="another recipe"):
        run([corpus], tmp_path / "o", parse_recipe(RECIPE.replace("min_words: 6", "min_words: 7")), workers=1)


def test_missing_input_is_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="nope"):
        run([tmp_path / "nope.jsonl"], tmp_path / "o", parse_recipe(RECIPE), workers=1)
