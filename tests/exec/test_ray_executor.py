"""The Ray executor gives the local executor's output, byte for byte, and resumes the same way."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.exec.support import make_docs, read_output
from thresher import parse_recipe, run

pytest.importorskip("ray", reason="Ray is not installed (pip install 'thresher[ray]')")

RECIPE = """
description: ray executor test
batch_size: 16
writer: {rejected: true}
steps:
  - exact_dedup
  - minhash: {bands: 4, rows: 8, n_grams: 2}
"""


def _corpus(folder: Path) -> Path:
    folder.mkdir()
    base = make_docs(90, "doc")
    for n, name in enumerate(("a.jsonl", "b.jsonl", "c.jsonl")):
        docs = [dict(d, id=f"{name}-{d['id']}") for d in base[n * 30:(n + 1) * 30]]
        copies = [dict(d, id=f"{name}-copy-{d['id']}", text=d["text"] + " extra") for d in base[::9]]
        (folder / name).write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in docs + copies))
    return folder


def test_ray_run_equals_local_run_and_resumes(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "in")
    recipe = parse_recipe(RECIPE)
    run([corpus], tmp_path / "local", recipe, workers=1)
    result = run([corpus], tmp_path / "ray", recipe, workers=2, executor="ray")
    local, on_ray = read_output(tmp_path / "local"), read_output(tmp_path / "ray")
    assert local == on_ray
    assert any(name.startswith("rejected/") and data for name, data in on_ray.items())
    stats = orjson.loads((tmp_path / "ray" / "stats.json").read_bytes())
    local_stats = orjson.loads((tmp_path / "local" / "stats.json").read_bytes())
    assert stats["documents"] == local_stats["documents"] == result.stats["documents"]
    assert stats["documents"]["dropped"] > 0

    # a second run on the finished folder does nothing and changes nothing
    run([corpus], tmp_path / "ray", recipe, workers=2, executor="ray")
    assert read_output(tmp_path / "ray") == local


def test_unknown_executor_is_a_usage_error(tmp_path: Path) -> None:
    from thresher.errors import UsageError

    corpus = _corpus(tmp_path / "in")
    with pytest.raises(UsageError, match="executor"):
        run([corpus], tmp_path / "out", parse_recipe(RECIPE), executor="spark")
