"""The ``thresher`` command line: run, recipes, demo, signals, refilter, eval.

Exit codes: 0 success, 1 failure, 2 usage error (bad option, missing input, invalid recipe),
130 interrupted (rerun the same command to resume). Errors print one sentence; ``--debug`` adds
the traceback.
"""

from __future__ import annotations

import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table

from thresher.errors import ThresherError

console = Console(stderr=True)
out = Console()


class _State:
    debug = False


def _fail(exc: BaseException) -> None:
    if _State.debug:
        traceback.print_exception(exc)
    if isinstance(exc, ThresherError):
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    if isinstance(exc, KeyboardInterrupt):
        console.print("interrupted: finished shards are kept; rerun the same command to resume")
        sys.exit(130)
    console.print(f"[red]error:[/red] {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
                  highlight=False)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.version_option(package_name="thresher")
def cli(debug: bool) -> None:
    """Thresher: turn raw web crawls into clean, deduplicated, quality-filtered training text."""
    _State.debug = debug


def _run_and_report(inputs: list[str], outdir: Path, recipe: Any, workers: int | None, quiet: bool,
                    **overrides: Any) -> dict[str, Any]:
    from thresher.api import run
    from thresher.report.progress import LiveProgress
    from thresher.report.summary import summary_table

    with LiveProgress(enabled=None if not quiet else False) as progress:
        result = run(inputs, outdir, recipe, workers=workers, progress=progress, **overrides)
    if not quiet:
        out.print(summary_table(result.stats))
        out.print(f"output: {outdir}   stats: {outdir / 'stats.json'}")
    return result.stats


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", "outdir", required=True, type=click.Path(path_type=Path),
              help="Output folder (created; rerun into the same folder to resume).")
@click.option("-r", "--recipe", default=None, help="Built-in recipe name or YAML file [default: default].")
@click.option("-w", "--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes [default: all cores].")
@click.option("-f", "--format", "output_format", type=click.Choice(["jsonl", "parquet"]), default=None,
              help="Output format [default: the recipe's, jsonl].")
@click.option("--rejected", is_flag=True, default=None, help="Also write dropped documents with their reason.")
@click.option("--html-field", default=None, help="JSONL/Parquet field holding raw HTML to extract.")
@click.option("--text-field", default=None, help="JSONL/Parquet field holding the text [default: text].")
@click.option("--id-field", default=None, help="JSONL/Parquet field holding the id [default: id].")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Run tasks in local worker processes, or on Ray (same output).")
@click.option("--ray-address", default=None,
              help="Ray cluster to join ('auto', 'ray://host:10001') [default: start Ray on this machine].")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
def run(inputs: tuple[str, ...], outdir: Path, recipe: str | None, workers: int | None,
        output_format: str | None, rejected: bool | None, html_field: str | None, text_field: str | None,
        id_field: str | None, executor: str, ray_address: str | None, quiet: bool) -> None:
    """Run a recipe on INPUT files, folders or globs (JSONL, Parquet, WARC, WET, txt)."""
    try:
        reader = {"html_field": html_field, "text_field": text_field, "id_field": id_field}
        _run_and_report(list(inputs), outdir, recipe, workers, quiet, output_format=output_format,
                        rejected=rejected, reader=reader, executor=executor, ray_address=ray_address)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - one-line errors for users
        _fail(exc)


@cli.command()
def recipes() -> None:
    """List the built-in recipes."""
    from thresher.recipe import builtin_recipes, load_recipe

    table = Table(title="built-in recipes (thresher run ... --recipe NAME)")
    table.add_column("name", style="bold")
    table.add_column("steps")
    table.add_column("description")
    try:
        for name in builtin_recipes():
            recipe = load_recipe(name)
            table.add_row(name, " -> ".join(s.name for s in recipe.steps), recipe.description)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001
        _fail(exc)
    out.print(table)


@cli.command()
@click.option("-o", "--output", "outdir", type=click.Path(path_type=Path), default=None,
              help="Folder for the generated crawl and the output [default: a new temporary folder].")
@click.option("-n", "--pages", type=click.IntRange(min=10), default=600, help="Pages to generate.")
@click.option("-w", "--workers", type=click.IntRange(min=1), default=None, help="Worker processes.")
@click.option("-r", "--recipe", default=None, help="Recipe to run [default: default].")
def demo(outdir: Path | None, pages: int, workers: int | None, recipe: str | None) -> None:
    """Generate a small synthetic crawl and run the default recipe on it."""
    try:
        from thresher.demo.synth import generate_crawl

        base = outdir or Path(tempfile.mkdtemp(prefix="thresher-demo-"))
        base.mkdir(parents=True, exist_ok=True)
        manifest = generate_crawl(base, n_pages=pages)
        out.print(f"generated a synthetic crawl of {pages} pages in {base / 'crawl'}")
        inputs = [str(p) for p in manifest.input_paths()]
        _run_and_report(inputs, base / "output", recipe, workers, False, rejected=True)
        out.print(f"rejected documents with reasons: {base / 'output' / 'rejected'}")
        _print_demo_check(manifest.evaluate_output(base / "output"))
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001
        _fail(exc)


def _print_demo_check(result: dict[str, Any]) -> None:
    """What the demo kept of each kind of generated page (the generator knows the truth)."""
    table = Table(title="demo: what was kept, by kind of generated page")
    table.add_column("kind", style="bold")
    table.add_column("pages", justify="right")
    table.add_column("kept", justify="right")
    for kind, row in result["kinds"].items():
        table.add_row(kind, str(row["pages"]), str(row["kept"]))
    out.print(table)
    if result["content_recall"] is not None:
        out.print(f"kept articles: {result['content_recall']:.1%} of their content lines kept, "
                  f"{result['boilerplate_removed']:.1%} of their template lines removed")


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def signals(run_dir: Path, as_json: bool) -> None:
    """Summarise a run's signal table (RUN_DIR/signals): drops per step and reason, signal quantiles."""
    try:
        from thresher.report.signals import format_number, read_signal_table, run_step_order, summarize

        summary = summarize(read_signal_table(run_dir), run_step_order(run_dir))
        if as_json:
            click.echo(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
            return
        drops = Table(title=f"{run_dir}: {summary['documents']:,} documents, {summary['kept']:,} kept")
        drops.add_column("dropped by", style="bold")
        drops.add_column("reason")
        drops.add_column("documents", justify="right")
        for step, reasons in summary["dropped_by"].items():
            for reason, n in sorted(reasons.items(), key=lambda item: -item[1]):
                drops.add_row(step, reason, f"{n:,}")
        out.print(drops)
        from rich import box

        # numbers never truncated; on a narrow terminal the signal names shrink instead
        table = Table(title="signals (over the documents that reached each step)", box=box.SIMPLE_HEAD,
                      pad_edge=False)
        table.add_column("step.signal", no_wrap=True, overflow="ellipsis")
        table.add_column("docs", justify="right", no_wrap=True)
        stats = ("min", "p05", "p25", "p50", "p75", "p95", "max") if out.width >= 100 else \
            ("p05", "p25", "p50", "p75", "p95")
        for head in stats:
            table.add_column(head, justify="right", no_wrap=True, min_width=6)
        current = None
        for name, row in summary["signals"].items():
            step, dot, signal = name.partition(".")
            if dot and step != current:
                current = step
                table.add_row(f"[bold]{step}[/bold]")
            table.add_row(f"  {signal}" if dot else name, f"{row['count']:,}",
                          *(format_number(row.get(k)) for k in stats))
        out.print(table)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001
        _fail(exc)


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("-r", "--recipe", default=None,
              help="The new recipe (built-in name or YAML file) [default: the run's own recipe].")
@click.option("--set", "settings", multiple=True, metavar="STEP.PARAM=VALUE",
              help="Change a threshold, e.g. --set gopher_quality.min_doc_words=80 (repeatable).")
@click.option("--out", "outdir", type=click.Path(path_type=Path), default=None,
              help="Write OUT/decisions.parquet (id, kept, dropped_by, reason).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def refilter(run_dir: Path, recipe: str | None, settings: tuple[str, ...], outdir: Path | None,
             as_json: bool) -> None:
    """Re-decide keep/drop of a finished run with new filter thresholds, from its signal table alone.

    Only thresholds (parameters read by a filter's keep half) may differ from the run's recipe;
    anything else needs a full rerun. Documents that would now reach a step they never reached
    are reported as undecidable (needs rescoring). Steps from the first dedup step on are not
    decided: dedup must be rerun on the new set.
    """
    try:
        from thresher.report.refilter import refilter as do_refilter

        # the CLI prints counts only: decisions go to the file, never all into memory
        result = do_refilter(run_dir, recipe, settings, outdir, keep_decisions=False)
        if as_json:
            click.echo(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2).decode())
            return
        _print_refilter(result)
        if outdir is not None:
            out.print(f"decisions: {outdir / 'decisions.parquet'}")
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001
        _fail(exc)


def _print_refilter(result: Any) -> None:
    changes = ", ".join(str(c) for c in result.changes) or "none (same thresholds as the run)"
    out.print(f"refilter {result.run_dir}: {result.documents:,} documents; changed: {changes}", highlight=False)
    table = Table(title="dropped before (the run) and after (new thresholds)")
    table.add_column("step", style="bold")
    table.add_column("reason")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    table.add_column("change", justify="right")
    for step in result.steps:
        reasons = sorted({r for (s, r) in result.before if s == step} | {r for (s, r) in result.after if s == step})
        for reason in reasons:
            b, a = result.before[(step, reason)], result.after[(step, reason)]
            table.add_row(step, reason, f"{b:,}", f"{a:,}", f"{a - b:+,}")
    label = f"passed on to {result.corpus_step}" if result.corpus_step else "kept"
    b, a = result.kept_before, result.kept_after
    table.add_row(label, "", f"{b:,}", f"{a:,}", f"{a - b:+,}", style="green")
    undecidable = sum(result.undecidable.values())
    if undecidable:
        detail = ", ".join(f"{n:,} at {step}" for step, n in result.undecidable.items())
        table.add_row("undecidable: needs rescoring", detail, "", f"{undecidable:,}", "", style="yellow")
    out.print(table)
    if undecidable:
        out.print(f"{undecidable:,} documents dropped in the run now pass a step and reach one they never reached, "
                  "so their signals for it are missing: rerun the recipe to decide them.")
    if result.corpus_step:
        later = ", ".join(f"{step}: {n:,}" for step, n in result.dropped_later.items()) or "none"
        out.print(f"decided up to {result.corpus_step}; dedup must be rerun on the new set "
                  f"(dropped by later steps in the run: {later}).")


@cli.group(name="eval")
def eval_group() -> None:
    """Evaluate Thresher against baselines on labelled data."""


@eval_group.command(name="boilerplate")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--methods", default=None, help="Comma-separated methods to run [default: all].")
@click.option("--split", type=click.Choice(["tune", "holdout", "all"]), default=None,
              help="Only this part of the pages [default: report tune, holdout and all side by side].")
def eval_boilerplate(file: Path, as_json: bool, methods: str | None, split: str | None) -> None:
    """Precision/recall/F1 of main-content lines on a line-labelled benchmark file."""
    try:
        if not file.exists():
            raise click.UsageError(f"benchmark file {file} not found")
        from thresher.extract.evaluate import evaluate_boilerplate, format_table

        result = evaluate_boilerplate(file, methods=methods.split(",") if methods else None, split=split)
        if as_json:
            click.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        else:
            click.echo(format_table(result))
    except click.UsageError:
        raise
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001
        _fail(exc)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="thresher")


if __name__ == "__main__":  # pragma: no cover
    main()
