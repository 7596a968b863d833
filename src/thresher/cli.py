"""The ``thresher`` command line: run, recipes, demo, eval.

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
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
def run(inputs: tuple[str, ...], outdir: Path, recipe: str | None, workers: int | None,
        output_format: str | None, rejected: bool | None, html_field: str | None, text_field: str | None,
        id_field: str | None, quiet: bool) -> None:
    """Run a recipe on INPUT files, folders or globs (JSONL, Parquet, WARC, WET, txt)."""
    try:
        reader = {"html_field": html_field, "text_field": text_field, "id_field": id_field}
        _run_and_report(list(inputs), outdir, recipe, workers, quiet, output_format=output_format,
                        rejected=rejected, reader=reader)
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
