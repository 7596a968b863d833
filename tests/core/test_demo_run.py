"""End to end: the default recipe on the synthetic crawl keeps the articles and drops the rest."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from thresher import run
from thresher.cli import cli
from thresher.demo.synth import generate_crawl


def test_default_recipe_on_synthetic_crawl(tmp_path: Path) -> None:
    manifest = generate_crawl(tmp_path, n_pages=200, seed=3)
    result = run([str(p) for p in manifest.input_paths()], tmp_path / "out", "default", workers=2)
    check = manifest.evaluate_output(tmp_path / "out")
    kinds = check["kinds"]
    assert kinds["article"]["kept"] >= 0.9 * kinds["article"]["pages"]
    for junk in ("foreign", "spam", "nav_only", "short"):
        assert kinds[junk]["kept"] == 0, (junk, kinds[junk])
    assert kinds["exact_copy"]["kept"] <= 0.2 * kinds["exact_copy"]["pages"]
    assert check["content_recall"] >= 0.9
    assert check["boilerplate_removed"] >= 0.9
    stats = result.stats
    assert stats["documents"]["read"] == 200
    assert stats["documents"]["kept"] + stats["documents"]["dropped"] == 200
    assert any(step["counters"].get("lines_removed") for step in stats["steps"] if step["name"] == "clean_lines")


def test_demo_command_runs(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "-o", str(tmp_path), "--pages", "60", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "what was kept" in result.output
    assert (tmp_path / "output" / "stats.json").exists()
    assert list((tmp_path / "output" / "rejected").glob("part-*.jsonl.zst"))
