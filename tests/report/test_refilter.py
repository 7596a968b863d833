"""refilter: new thresholds decided from the signal table give the decisions of a full rerun."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from tests.report.support import FILTERS, STAGED, signal_rows, write_corpus
from thresher import parse_recipe, run
from thresher.cli import cli
from thresher.errors import ThresherError, UsageError
from thresher.report.refilter import RefilterResult, apply_settings, refilter
from thresher.steps.base import Filter, register


@register
class SneakyWords(Filter):
    """Drops short documents through ``keep``, and (unlike a proper filter) documents whose id ends in
    3 in ``process``, on something no signal records."""

    name = "test_refilter_sneaky"
    keep_params = frozenset({"min_words"})

    def __init__(self, min_words: int = 5) -> None:
        super().__init__()
        self.min_words = min_words

    def score(self, doc):
        return {"words": len(doc.text.split())}

    def keep(self, signals):
        if signals["words"] < self.min_words:
            return "too_few_words", {"value": signals["words"]}
        return None

    def process(self, batch):
        batch = super().process(batch)
        for doc in batch:
            if doc.id.endswith("3"):
                doc.reject(self.name, "id_three")
        return batch

Outcome = tuple[bool | None, str | None, str | None]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run of the five-filter recipe (shared by the tests: refilter never writes into it)."""
    root = tmp_path_factory.mktemp("refilter")
    corpus = write_corpus(root / "in")
    run([corpus], root / "run", parse_recipe(FILTERS), workers=1)
    return root


def _table_outcomes(outdir: Path) -> dict[str, Outcome]:
    return {r["id"]: (r["kept"], r["dropped_by"], r["reason"]) for r in signal_rows(outdir)}


def _decisions(result: RefilterResult) -> dict[str, Outcome]:
    assert result.decisions is not None
    return {r["id"]: (r["kept"], r["dropped_by"], r["reason"]) for r in result.decisions.to_pylist()}


def _rerun(base: Path, name: str, settings: list[str], recipe: str = FILTERS) -> dict[str, Outcome]:
    new = apply_settings(parse_recipe(recipe), settings)
    run([base / "in"], base / name, new, workers=1)
    return _table_outcomes(base / name)


def test_unchanged_recipe_reproduces_the_run(base: Path) -> None:
    result = refilter(base / "run")
    assert result.changes == [] and not result.undecidable
    assert _decisions(result) == _table_outcomes(base / "run")
    assert result.before == result.after


def test_stricter_thresholds_match_a_full_rerun(base: Path) -> None:
    settings = ["language.min_score=0.95", "url_filter.soft_word_threshold=1", "gopher_quality.min_doc_words=80"]
    result = refilter(base / "run", settings=settings)
    assert [str(c) for c in result.changes] == [
        "language.min_score: 0.65 -> 0.95", "url_filter.soft_word_threshold: 2 -> 1",
        "gopher_quality.min_doc_words: 50 -> 80",
    ]
    assert not result.undecidable
    # each change drops more than the run did (the comparison below is not vacuous)
    for key in (("language", "low_score"), ("url_filter", "soft_banned_words"), ("gopher_quality", "gopher_short_doc")):
        assert result.after[key] > result.before[key], key
    assert result.kept_after < result.kept_before
    assert _decisions(result) == _rerun(base, "strict", settings)


def test_looser_last_filter_matches_a_full_rerun(base: Path) -> None:
    settings = ["fineweb_quality.line_punct_thr=0.0"]
    result = refilter(base / "run", settings=settings)
    assert not result.undecidable
    assert result.after[("fineweb_quality", "line_punct_ratio")] == 0 < result.before[("fineweb_quality",
                                                                                       "line_punct_ratio")]
    assert result.kept_after > result.kept_before
    assert _decisions(result) == _rerun(base, "loose_last", settings)


def test_looser_early_filter_counts_undecidable_documents(base: Path) -> None:
    settings = ["gopher_quality.min_doc_words=25"]
    result = refilter(base / "run", settings=settings)
    rerun = _rerun(base, "loose_early", settings)
    original = _table_outcomes(base / "run")
    decided = _decisions(result)
    # exactly the documents the run dropped at gopher_quality that now reach fineweb_quality, whose
    # signals they never got, are undecidable
    expected = {i for i, (_, step, _) in original.items() if step == "gopher_quality"
                and rerun[i][1] not in ("language", "url_filter", "gopher_repetition", "gopher_quality")}
    undecided = {i for i, outcome in decided.items() if outcome[0] is None}
    assert undecided == expected and len(expected) >= 3
    assert result.undecidable == {"fineweb_quality": len(expected)}
    assert all(decided[i] == (None, None, "needs_rescoring:fineweb_quality") for i in undecided)
    # every other document is decided as the rerun decided it, never silently kept or dropped
    assert {i: o for i, o in decided.items() if i not in undecided} == {
        i: o for i, o in rerun.items() if i not in undecided
    }


def test_looser_repetition_thresholds_leave_unscored_ngrams_undecidable(base: Path) -> None:
    # gopher_repetition stops scoring at its first failing rule: a document dropped for repeated
    # lines has no n-gram signals, so once its lines pass it must be undecidable, never kept
    params = ("dup_line_frac", "dup_para_frac", "dup_line_char_frac", "dup_para_char_frac")
    settings = [f"gopher_repetition.{p}=0.99" for p in params]
    result = refilter(base / "run", settings=settings)
    rerun = _rerun(base, "loose_repetition", settings)
    original = _table_outcomes(base / "run")
    decided = _decisions(result)
    line_drops = {i for i, (_, step, reason) in original.items() if step == "gopher_repetition" and reason in params}
    assert len(line_drops) >= 3
    assert {i for i, outcome in decided.items() if outcome[0] is None} == line_drops
    assert result.undecidable == {"gopher_repetition": len(line_drops)}
    assert all(decided[i] == (None, None, "needs_rescoring:gopher_repetition") for i in line_drops)
    assert {i: o for i, o in decided.items() if i not in line_drops} == {
        i: o for i, o in rerun.items() if i not in line_drops
    }


C4_RECIPE = FILTERS.replace("  - gopher_quality\n", "  - c4: {filter_no_terminal_punct: false}\n  - gopher_quality\n")


@pytest.fixture(scope="module")
def c4base(base: Path) -> Path:
    """A finished run of the five filters with c4 before gopher_quality (in ``base / "c4run"``)."""
    run([base / "in"], base / "c4run", parse_recipe(C4_RECIPE), workers=1)
    return base


def test_c4_sentence_threshold_is_refiltered(c4base: Path) -> None:
    # c4 removes lines (a text edit) but decides drops on its signals: min_num_sentences is a threshold
    base, recipe = c4base, C4_RECIPE
    original = _table_outcomes(base / "c4run")
    assert any(o[2] == "too_few_sentences" for o in original.values())
    tighter = ["c4.min_num_sentences=9"]
    result = refilter(base / "c4run", parse_recipe(recipe), tighter)
    assert not result.undecidable
    assert result.after[("c4", "too_few_sentences")] > result.before[("c4", "too_few_sentences")]
    assert _decisions(result) == _rerun(base, "c4tight", tighter, recipe)
    looser = ["c4.min_num_sentences=2"]
    result = refilter(base / "c4run", parse_recipe(recipe), looser)
    rerun = _rerun(base, "c4loose", looser, recipe)
    decided = _decisions(result)
    # documents c4 dropped for too few sentences now reach gopher_quality, which never scored them
    undecided = {i for i, o in decided.items() if o[0] is None}
    assert undecided == {i for i, o in original.items() if o[2] == "too_few_sentences"
                         and rerun[i][1] not in ("c4",)}
    assert result.undecidable == {"gopher_quality": len(undecided)} and undecided
    assert {i: o for i, o in decided.items() if i not in undecided} == {
        i: o for i, o in rerun.items() if i not in undecided
    }
    # a line rule changes the text: still refused
    with pytest.raises(UsageError, match="c4.min_words_per_line"):
        refilter(base / "c4run", parse_recipe(recipe), ["c4.min_words_per_line=5"])


def test_a_table_without_a_filters_new_signals_still_refilters_the_other_steps(c4base: Path, tmp_path: Path) -> None:
    # a run made before c4 stored its document-rule flags: other thresholds can still change (c4's
    # outcome stands), c4's own threshold is refused with the missing column named
    old = tmp_path / "old"
    shutil.copytree(c4base / "c4run", old)
    for path in (old / "signals").glob("part-*.parquet"):
        table = pq.read_table(path)
        pq.write_table(table.drop_columns(["c4.lorem_ipsum", "c4.curly_bracket"]), path)
    settings = ["gopher_quality.min_doc_words=80"]
    assert _decisions(refilter(old, settings=settings)) == _decisions(refilter(c4base / "c4run", settings=settings))
    with pytest.raises(ThresherError, match=r"no column c4\.lorem_ipsum, c4\.curly_bracket.*earlier Thresher"):
        refilter(old, settings=["c4.min_num_sentences=3"])


def test_dedup_run_is_decided_up_to_dedup(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "in", copies=True)
    run([corpus], tmp_path / "run", parse_recipe(STAGED), workers=1)
    settings = ["gopher_quality.min_doc_words=90"]
    result = refilter(tmp_path / "run", settings=settings)
    assert result.steps == ["gopher_quality"] and result.corpus_step == "exact_dedup"
    assert result.dropped_later["exact_dedup"] > 0
    new = apply_settings(parse_recipe(STAGED), settings)
    run([corpus], tmp_path / "rerun", new, workers=1)
    # up to dedup, the rerun agrees: what reached dedup in the rerun is what refilter passes on
    expected = {
        i: (False, step, reason) if step == "gopher_quality" else (True, None, None)
        for i, (_, step, reason) in _table_outcomes(tmp_path / "rerun").items()
    }
    assert _decisions(result) == expected

    cli_out = CliRunner().invoke(cli, ["refilter", str(tmp_path / "run"), "--set", settings[0]],
                                 env={"COLUMNS": "200"})
    assert cli_out.exit_code == 0, cli_out.output
    assert "passed on to exact_dedup" in cli_out.output and "dedup must be rerun" in cli_out.output
    # a threshold after dedup cannot be re-decided: who reaches it depends on dedup
    with pytest.raises(UsageError, match="after corpus step 'exact_dedup'.*full rerun"):
        refilter(tmp_path / "run", settings=["fineweb_quality.line_punct_thr=0.2"])


@pytest.mark.parametrize(
    ("recipe", "settings", "needle"),
    [
        (FILTERS, ["gopher_quality.stop_words=[the, and]"], "gopher_quality.stop_words.*changes its signals"),
        (FILTERS, ["fineweb_quality.short_line_length=10"], "fineweb_quality.short_line_length"),
        (FILTERS, ["gopher_repetition.top_n_grams=[[2, 0.1]]"], "gopher_repetition.top_n_grams"),
        (FILTERS, ["language.languages=[en, fr]"], "language.languages"),
        (FILTERS.replace("  - gopher_repetition\n", ""), [], "steps differ.*added, removed or reordered"),
        (FILTERS.replace("  - gopher_repetition\n", "").replace("  - fineweb_quality\n",
                                                                  "  - fineweb_quality\n  - gopher_repetition\n"),
         [], "steps differ"),
        (FILTERS + "reader: {text_field: body}\n", [], "reader.text_field"),
        (FILTERS, ["nosuch.param=1"], "no step 'nosuch'"),
    ],
)
def test_changes_that_need_a_rerun_are_refused(base: Path, tmp_path: Path, recipe: str, settings: list[str],
                                               needle: str) -> None:
    path = tmp_path / "new.yaml"
    path.write_text(recipe)
    with pytest.raises(UsageError, match=needle):
        refilter(base / "run", path, settings)
    args = ["refilter", str(base / "run"), "--recipe", str(path)] + [x for s in settings for x in ("--set", s)]
    cli_out = CliRunner().invoke(cli, args, env={"COLUMNS": "400"})
    assert cli_out.exit_code == 2
    assert "Traceback" not in cli_out.output
    assert ("full rerun" in cli_out.output) or ("no step" in cli_out.output)


def test_ngram_thresholds_with_the_same_sizes_are_keep_only(base: Path) -> None:
    # gopher_repetition computes one signal per n-gram size: new fractions for the same sizes are thresholds
    settings = ["gopher_repetition.top_n_grams=[[2, 0.05], [3, 0.18], [4, 0.16]]"]
    result = refilter(base / "run", settings=settings)
    assert result.after[("gopher_repetition", "top_2_gram")] > result.before[("gopher_repetition", "top_2_gram")]
    assert not result.undecidable
    assert _decisions(result) == _rerun(base, "ngram", settings)


def test_cli_writes_decisions_and_prints_before_after(base: Path, tmp_path: Path) -> None:
    recipe = tmp_path / "loose.yaml"
    recipe.write_text(FILTERS.replace("  - gopher_quality\n", "  - gopher_quality: {min_doc_words: 25}\n"))
    out = tmp_path / "decided"
    cli_out = CliRunner().invoke(cli, ["refilter", str(base / "run"), "-r", str(recipe), "--out", str(out)],
                                 env={"COLUMNS": "200"})
    assert cli_out.exit_code == 0, cli_out.output
    text = cli_out.output
    assert "gopher_quality.min_doc_words: 50 -> 25" in text
    assert "gopher_short_doc" in text and "undecidable: needs rescoring" in text
    table = pq.read_table(out / "decisions.parquet")
    assert table.column_names == ["id", "kept", "dropped_by", "reason"]
    expected = refilter(base / "run", recipe)
    assert table.equals(expected.decisions)
    assert table.column("kept").null_count == sum(expected.undecidable.values()) > 0


def test_filter_deciding_on_more_than_its_signals_is_refused(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "in")
    recipe = "steps:\n  - test_refilter_sneaky: {min_words: 40}\n"
    run([corpus], tmp_path / "run", parse_recipe(recipe), workers=1)
    # the class declares min_words keep-only, but replaying the run shows keep is not the whole decision
    with pytest.raises(ThresherError, match=r"test_refilter_sneaky: \d+ documents.*rerun instead"):
        refilter(tmp_path / "run", settings=["test_refilter_sneaky.min_words=60"])


def test_refilter_streams_shard_by_shard_and_writes_nothing_on_refusal(base: Path, tmp_path: Path) -> None:
    parts = sorted((base / "run" / "signals").glob("part-*.parquet"))
    assert len(parts) >= 2  # one signal file per shard: the streaming path is exercised
    settings = ["gopher_quality.min_doc_words=80"]
    in_memory = refilter(base / "run", settings=settings)
    streamed = refilter(base / "run", settings=settings, out=tmp_path / "d", keep_decisions=False)
    assert streamed.decisions is None
    assert pq.read_table(tmp_path / "d" / "decisions.parquet").equals(in_memory.decisions)
    assert streamed.to_dict() == in_memory.to_dict()
    assert streamed.documents == sum(pq.read_metadata(p).num_rows for p in parts)
    # a refused refilter leaves no half-written decisions file behind
    corpus = write_corpus(tmp_path / "in")
    run([corpus], tmp_path / "sneaky", parse_recipe("steps:\n  - test_refilter_sneaky: {min_words: 40}\n"), workers=1)
    with pytest.raises(ThresherError, match=r"in part-\d+.*rerun instead"):
        refilter(tmp_path / "sneaky", settings=["test_refilter_sneaky.min_words=60"], out=tmp_path / "refused")
    assert not (tmp_path / "refused" / "decisions.parquet").exists()


def test_codes_of_a_column_in_several_chunks_share_one_dictionary() -> None:
    import pyarrow as pa

    from thresher.report.refilter import _codes, _pair_counts

    column = pa.chunked_array([["c4", None, "url_filter"], ["url_filter", "language", None, "c4"]])
    codes, values = _codes(column)
    decoded = [values[c] if c >= 0 else None for c in codes]
    assert decoded == column.to_pylist()
    assert _pair_counts(np.array([0, 1, 0, 0]), np.array([2, 0, 2, 1])) == {(0, 2): 2, (1, 0): 1, (0, 1): 1}
    assert _pair_counts(np.array([], np.int64), np.array([], np.int64)) == {}
