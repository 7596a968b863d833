"""Live progress on a terminal (rich): documents/s, MB/s, ETA; silent when not a TTY."""

from __future__ import annotations

import sys
import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from thresher.exec.local import Progress as RunProgress


class LiveProgress:
    """A progress bar fed by the executor's progress callback. Use as a context manager."""

    def __init__(self, enabled: bool | None = None, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bar: Progress | None = None
        self._tasks: dict[str, int] = {}
        self._started: dict[str, float] = {}

    def __enter__(self) -> LiveProgress:
        if self.enabled:
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=False,
            )
            self._bar.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.__exit__(exc_type, exc, tb)

    def __call__(self, state: RunProgress) -> None:
        if self._bar is None:
            return
        if state.stage not in self._tasks:
            self._tasks[state.stage] = self._bar.add_task(state.stage, total=state.total_tasks, rate="")
            self._started[state.stage] = time.monotonic()
        elapsed = max(time.monotonic() - self._started[state.stage], 1e-6)
        rate = ""
        if state.docs:
            rate = f"{state.docs / elapsed:,.0f} docs/s  {state.bytes / elapsed / 1e6:,.1f} MB/s"
        self._bar.update(self._tasks[state.stage], completed=state.done_tasks, rate=rate)
