"""The signal table: one row per document read, right columns, resume-safe, worker-count independent."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
import zstandard
from click.testing import CliRunner

import tests.exec.support  # noqa: F401  (registers test_die_once)
from tests.report.support import FILTERS, STAGED, input_ids, signal_bytes, signal_rows, write_corpus
from thresher import parse_recipe, run
from thresher.cli import cli
from thresher.errors import ThresherError, UsageError
from thresher.report.signals import FIXED_COLUMNS, read_signal_table, summarize


def _kept_docs(outdir: Path) -> list[dict]:
    docs = []
    for path in sorted(outdir.glob("part-*.jsonl.zst")):
        data = zstandard.ZstdDecompressor().decompressobj().decompress(path.read_bytes())
        docs.extend(orjson.loads(line) for line in data.splitlines())
    return docs


def test_one_row_per_document_with_outcome_and_signals(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "in")
    outdir = tmp_path / "out"
    result = run([corpus], outdir, parse_recipe(FILTERS), workers=1)  # no --rejected: rows all the same
    rows = signal_rows(outdir)
    assert sorted(r["id"] for r in rows) == sorted(input_ids(corpus))
    assert sorted(p.name for p in (outdir / "signals").iterdir()) == ["part-00000.parquet", "part-00001.parquet"]

    table = pq.read_table(outdir / "signals" / "part-00000.parquet")
    assert tuple(table.column_names[:6]) == FIXED_COLUMNS
    signal_cols = table.column_names[6:]
    assert all(str(table.schema.field(c).type) == "double" for c in signal_cols + ["language_score"])
    # columns follow the recipe's step order
    steps = [c.split(".")[0] for c in signal_cols]
    assert steps == sorted(steps, key=["language", "url_filter", "gopher_repetition", "gopher_quality",
                                       "fineweb_quality"].index)
    assert "gopher_quality.n_words" in signal_cols and "fineweb_quality.line_punct_ratio" in signal_cols

    kept = {d["id"]: d for d in _kept_docs(outdir)}
    assert {r["id"] for r in rows if r["kept"]} == set(kept)
    drops = Counter(f"{r['dropped_by']}/{r['reason']}" for r in rows if not r["kept"])
    assert drops == result.stats["dropped_by_reason"]
    assert all(r["dropped_by"] is None and r["reason"] is None for r in rows if r["kept"])
    # a kept document's row holds exactly the signals in its metadata
    for r in rows:
        if r["kept"]:
            meta = kept[r["id"]]["metadata"]
            assert {k: v for k, v in r.items() if k not in FIXED_COLUMNS and v is not None} == meta["signals"]
            assert r["language"] == meta["language"] == "en"
            assert r["language_score"] == meta["language_score"]
    # a document dropped early has nulls for the steps it never reached, values for the ones it did
    french = next(r for r in rows if r["dropped_by"] == "language")
    assert french["language"] == "fr" and french["language.score"] > 0.5
    assert french["gopher_quality.n_words"] is None and french["fineweb_quality.lines"] is None
    short = next(r for r in rows if r["reason"] == "gopher_short_doc")
    assert short["gopher_quality.n_words"] < 50
    assert short["gopher_repetition.n_chars"] is not None and short["fineweb_quality.lines"] is None


def test_staged_run_rows_identical_for_one_and_two_workers(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "in", copies=True)
    run([corpus], tmp_path / "w1", parse_recipe(STAGED), workers=1)
    run([corpus], tmp_path / "w2", parse_recipe(STAGED), workers=2)
    assert signal_bytes(tmp_path / "w1") == signal_bytes(tmp_path / "w2")
    rows = signal_rows(tmp_path / "w1")
    assert sorted(r["id"] for r in rows) == sorted(input_ids(corpus))
    by = Counter(r["dropped_by"] for r in rows)
    assert by["gopher_quality"] and by["exact_dedup"] and by["fineweb_quality"]
    stage0 = [r for r in rows if r["dropped_by"] == "gopher_quality"]
    assert all(r["fineweb_quality.lines"] is None for r in stage0)  # never reached stage 1
    dups = [r for r in rows if r["dropped_by"] == "exact_dedup"]
    copies = [r for r in rows if r["id"].startswith("copy-")]
    assert {r["dropped_by"] for r in copies} == {"gopher_quality", "exact_dedup"}
    assert all(r["gopher_quality.n_words"] >= 50 and r["fineweb_quality.lines"] is None for r in dups)
    assert not (tmp_path / "w1" / ".thresher" / "work").exists()


def test_interrupted_run_resumes_without_duplicate_or_missing_rows(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "in", copies=True)
    sentinel = tmp_path / "die"
    sentinel.write_text("1")
    # the worker dies in stage 1 (after dedup), on a document of the second shard
    recipe = parse_recipe(STAGED + f"  - test_die_once: {{doc_id: b-21, sentinel: '{sentinel}'}}\n")
    outdir = tmp_path / "crashy"
    with pytest.raises(ThresherError, match="rerun the same command to resume"):
        run([corpus], outdir, recipe, workers=2)
    assert not sentinel.exists()
    # a half-written signal file as a killed worker leaves it
    (outdir / "signals").mkdir(exist_ok=True)
    leftover = outdir / "signals" / ".part-00001.parquet.tmp-99999"
    leftover.write_bytes(b"PAR1 half")
    from thresher.report.refilter import refilter

    with pytest.raises(UsageError, match="not finished"):
        refilter(outdir)
    run([corpus], outdir, recipe, workers=2)
    assert not leftover.exists()
    run([corpus], tmp_path / "clean", recipe, workers=1)
    assert signal_bytes(outdir) == signal_bytes(tmp_path / "clean")
    ids = [r["id"] for r in signal_rows(outdir)]
    assert len(ids) == len(set(ids)) == len(input_ids(corpus))


def test_signals_command_summarises_drops_and_quantiles(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "in")
    outdir = tmp_path / "out"
    result = run([corpus], outdir, parse_recipe(FILTERS), workers=1)
    summary = summarize(read_signal_table(outdir))
    assert summary["documents"] == result.stats["documents"]["read"]
    assert summary["kept"] == result.stats["documents"]["kept"]
    flat = {f"{s}/{r}": n for s, reasons in summary["dropped_by"].items() for r, n in reasons.items()}
    assert flat == result.stats["dropped_by_reason"]
    words = summary["signals"]["gopher_quality.n_words"]
    reached = [r["gopher_quality.n_words"] for r in signal_rows(outdir) if r["gopher_quality.n_words"] is not None]
    assert words["count"] == len(reached)
    assert words["min"] == min(reached) and words["max"] == max(reached)
    assert words["min"] <= words["p25"] <= words["p50"] <= words["p75"] <= words["max"]

    cli_out = CliRunner().invoke(cli, ["signals", str(outdir)], env={"COLUMNS": "200"})
    assert cli_out.exit_code == 0, cli_out.output
    assert "gopher_short_doc" in cli_out.output and "gopher_quality" in cli_out.output
    assert "  n_words" in cli_out.output
    as_json = CliRunner().invoke(cli, ["signals", str(outdir), "--json"])
    assert orjson.loads(as_json.output)["dropped_by"] == summary["dropped_by"]
    missing = CliRunner().invoke(cli, ["signals", str(tmp_path / "in")], env={"COLUMNS": "300"})
    assert missing.exit_code == 2 and "no signal table" in missing.output
