"""The command line: help, exit codes, one-line errors, summary, recipes list."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
from click.testing import CliRunner

import tests.exec.support  # noqa: F401  (registers the test steps)
from thresher.cli import cli

RECIPE = "description: cli test\nsteps:\n  - test_drop_short: {min_words: 3}\nwriter: {rejected: true}\n"


def _input(tmp_path: Path) -> Path:
    lines = [orjson.dumps({"id": f"d{i}", "text": f"mail me at user{i}@example.com please"}) for i in range(30)]
    lines.insert(7, b'{"id": "broken", "text": ')  # a malformed record in the middle
    path = tmp_path / "in.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n", mtime=0))
    return path


def test_help_for_every_command() -> None:
    runner = CliRunner()
    for args in (["--help"], ["run", "--help"], ["recipes", "--help"], ["demo", "--help"],
                 ["eval", "boilerplate", "--help"], ["signals", "--help"], ["refilter", "--help"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, (args, result.output)
        assert "Usage:" in result.output


def test_run_success_prints_summary_and_counts_bad_record(tmp_path: Path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(RECIPE)
    result = CliRunner().invoke(cli, ["run", str(_input(tmp_path)), "-o", str(tmp_path / "out"),
                                      "--recipe", str(recipe), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "kept" in result.output and "invalid_json" in result.output
    stats = orjson.loads((tmp_path / "out" / "stats.json").read_bytes())
    assert stats["documents"]["read"] == 30
    assert stats["bad_records"] == {"invalid_json": 1}
    bad = (tmp_path / "out" / "bad" / "part-00000.jsonl").read_bytes().splitlines()
    assert orjson.loads(bad[0])["reason"] == "invalid_json"


def test_missing_input_is_usage_error_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "missing.jsonl" in result.output
    assert "Traceback" not in result.output


def test_bad_recipe_is_usage_error_naming_line(tmp_path: Path) -> None:
    recipe = tmp_path / "bad.yaml"
    recipe.write_text("steps:\n  - test_drop_short: {min_words: 3, nope: 1}\n")
    result = CliRunner().invoke(cli, ["run", str(_input(tmp_path)), "-o", str(tmp_path / "o"), "-r", str(recipe)])
    assert result.exit_code == 2
    assert "bad.yaml:2" in result.output
    assert "Traceback" not in result.output


def test_unknown_option_is_usage_error() -> None:
    result = CliRunner().invoke(cli, ["run", "--no-such-flag"])
    assert result.exit_code == 2


def test_recipes_lists_builtins() -> None:
    result = CliRunner().invoke(cli, ["recipes"])
    assert result.exit_code == 0, result.output
    assert "default" in result.output
