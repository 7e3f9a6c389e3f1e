"""Progress on stderr behind one context manager: a rich bar on a terminal (or in a notebook),
plain lines in a log.

When stderr is not a terminal (a log file, a CI job, a pipe), a bar cannot be drawn: one line
``description: done/total (elapsed, about N s left)`` is written every :data:`LOG_EVERY_SECONDS`
(from a timer thread, so also while the steps are slow) and one at the end, so long work never
looks frozen in a log. One step that runs long (one estimator on one candidate with 10,000
classes) advances nothing for minutes: the line then says ``still working`` with the elapsed
time, and the bar on a terminal shows the elapsed time.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["progress_bar", "step_progress", "LOG_EVERY_SECONDS"]

LOG_EVERY_SECONDS = 10.0
_HEARTBEAT_FLOOR = 1.0  # the "still working" lines never come faster than this


@contextmanager
def progress_bar(description: str, *, total: int, enabled: bool,
                 stream: TextIO | None = None) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``; draws a bar on stderr when ``enabled`` (plain lines when stderr, or
    ``stream``, is not a terminal).

    Examples
    --------
    >>> import io
    >>> log = io.StringIO()
    >>> with progress_bar("encoding", total=2, enabled=True, stream=log) as advance:
    ...     advance(2)
    >>> log.getvalue().startswith("encoding: 2/2 done in ")
    True
    """
    if not enabled:
        yield lambda _n: None
        return
    from rich.console import Console

    console = Console(stderr=True)
    if stream is not None or not (console.is_terminal or console.is_jupyter):
        yield from _plain_lines(description, total, stream if stream is not None else sys.stderr)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),  # moves while one long step advances nothing
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


@contextmanager
def step_progress(description: str, *, enabled: bool,
                  stream: TextIO | None = None) -> Iterator[Callable[[int, int], None]]:
    """Yield ``report(done, total)`` for work that learns its total as it starts (fine-tuning
    steps): the :func:`progress_bar` opens at the first report.

    Examples
    --------
    >>> import io
    >>> log = io.StringIO()
    >>> with step_progress("fine-tuning", enabled=True, stream=log) as report:
    ...     report(1, 2); report(2, 2)
    >>> log.getvalue().startswith("fine-tuning: 2/2 done in ")
    True
    """
    from contextlib import ExitStack

    with ExitStack() as stack:
        state = {"done": 0}
        advance: list[Callable[[int], None]] = []

        def report(done: int, total: int) -> None:
            if not advance:
                advance.append(stack.enter_context(progress_bar(description, total=total, enabled=enabled,
                                                                stream=stream)))
            advance[0](done - state["done"])
            state["done"] = done

        yield report


def _plain_lines(description: str, total: int, out: TextIO) -> Iterator[Callable[[int], None]]:
    import threading

    start = last = time.monotonic()
    done = 0
    lock, stop = threading.Lock(), threading.Event()

    def write(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    shown = 0  # done as of the last line written

    def line(now: float) -> None:  # with the lock held
        nonlocal last, shown
        if done > shown and done < total:  # moved since the last line: where it is and the time left
            left = (now - start) / done * (total - done)
            write(f"{description}: {done}/{total} ({now - start:.0f} s, about {left:.0f} s left)")
        else:  # one long step that advances nothing: the run is still alive
            write(f"{description}: {done}/{total}, still working ({now - start:.0f} s)")
        last, shown = now, done

    def advance(n: int) -> None:
        nonlocal done
        with lock:
            done += n
            now = time.monotonic()
            if now - last >= LOG_EVERY_SECONDS and done < total:
                line(now)

    every = max(LOG_EVERY_SECONDS, _HEARTBEAT_FLOOR)

    def heartbeat() -> None:  # a line at least every LOG_EVERY_SECONDS, whether or not a step ended
        while not stop.wait(every / 2):
            with lock:
                now = time.monotonic()
                if now - last >= every:
                    line(now)

    timer = threading.Thread(target=heartbeat, name="transferscope-progress", daemon=True)
    timer.start()
    try:
        yield advance
    finally:
        stop.set()
        timer.join()
    write(f"{description}: {done}/{total} done in {time.monotonic() - start:.1f} s")
