"""Progress on the long waits, on stderr, for a person at a terminal.

    with progress.track("[c] group 'mpi'", total=5, unit="engines registered") as bar:
        bar.update(3)                      # "[c] group 'mpi': 3 of 5 engines registered  12s"
        bar.update(note="Step 4/12 ...")   # text after the count

``track`` gives a live line (rich) when stderr is a terminal, and otherwise ``Quiet``,
which shows nothing: the log lines on stdout are what scripts, tests and files get,
unchanged. The live lines are transient (gone once their wait ends), and several at
once (reproduce's experiment, and the bring-up's engines inside it) share one display.

A log line printed while a display is live goes through ``echo``: on the display's own
terminal it is printed above the display (rich keeps them apart); anywhere else (stdout
into a pipe or a file) it is written as it always was.

``registered`` reads the lines ``testbed_node.py wait`` prints to stderr as engines
register (``{"registered": k, "of": n}``).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import TextIO

__all__ = ["Quiet", "Shown", "echo", "is_terminal", "registered", "seconds", "track"]


def registered(line: str) -> tuple[int, int] | None:
    """``(k, n)`` of a ``{"registered": k, "of": n}`` line, or None for any other line."""
    line = line.strip()
    if not line.startswith('{"registered"'):
        return None
    try:
        doc = json.loads(line)
    except json.JSONDecodeError:
        return None
    k, n = doc.get("registered"), doc.get("of")
    if type(k) is not int or type(n) is not int or not 0 <= k or not 0 <= n:
        return None
    return k, n


def is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


class Quiet:
    """The progress of one wait, shown nowhere (stderr is no terminal); the interface of ``Shown``."""

    def __init__(self, what: str, total: int | None = None, unit: str = ""):
        self.what = what
        self.total = total
        self.unit = unit
        self.done: int | None = None  # None: not told yet (shown as "?", not as a misleading 0)
        self.note = ""

    def start(self) -> Quiet:
        return self

    def update(self, done: int | None = None, total: int | None = None, note: str | None = None) -> None:
        if done is not None:
            self.done = done
        if total is not None:
            self.total = total
        if note is not None:
            self.note = note

    def stop(self) -> None:
        pass

    def text(self) -> str:
        """What the line says (its elapsed time aside)."""
        s = self.what
        if self.total is not None:
            s += f": {'?' if self.done is None else self.done} of {self.total}" + (f" {self.unit}" if self.unit else "")
        return s + (f"  {self.note}" if self.note else "")

    def registered_line(self, line: str) -> bool:
        """Feed one stderr line of ``testbed_node.py wait``: True when it was a progress line (taken)."""
        got = registered(line)
        if got is None:
            return False
        self.update(done=got[0], total=got[1])
        return True

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _Display:
    """One rich Progress on one terminal stream, shared by every Shown line while any is live."""

    def __init__(self, stream: TextIO):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, TextColumn
        from rich.table import Column
        from rich.text import Text

        class Bar(BarColumn):  # a bar only where there is a count to fill it
            def render(self, task):
                return Text() if task.total is None else super().render(task)

        class Elapsed(ProgressColumn):
            def render(self, task):
                return Text(seconds(task.elapsed or 0.0), style="dim")

        self.stream = stream
        self.console = Console(file=stream, force_terminal=True, highlight=False)
        self.rich = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False, table_column=Column(no_wrap=True, overflow="ellipsis")),
            Bar(bar_width=16),
            Elapsed(),
            console=self.console,
            transient=True,
            redirect_stdout=False,  # stdout stays stdout: its lines go through echo
            redirect_stderr=False,
            refresh_per_second=4,
        )
        self.lines = 0


_lock = threading.RLock()
_display: _Display | None = None


class Shown(Quiet):
    """The progress of one wait as a live line on a terminal (``stream``, default stderr)."""

    def __init__(self, what: str, total: int | None = None, unit: str = "", stream: TextIO | None = None):
        super().__init__(what, total, unit)
        self.stream = stream if stream is not None else sys.stderr
        self._task = None
        self._display: _Display | None = None

    def start(self) -> Shown:
        global _display
        with _lock:
            if self._task is not None:
                return self
            if _display is None or _display.stream is not self.stream:
                if _display is not None:  # another terminal's display (only in tests): not shared
                    return self
                _display = _Display(self.stream)
                _display.rich.start()
            self._display = _display
            self._display.lines += 1
            self._task = self._display.rich.add_task(self.text(), total=self.total)
        return self

    def update(self, done: int | None = None, total: int | None = None, note: str | None = None) -> None:
        super().update(done, total, note)
        with _lock:
            if self._task is not None:
                self._display.rich.update(
                    self._task, description=self.text(), completed=self.done or 0, total=self.total
                )

    def stop(self) -> None:
        global _display
        with _lock:
            if self._task is None:
                return
            d, self._display = self._display, None
            d.rich.remove_task(self._task)
            self._task = None
            d.lines -= 1
            if d.lines == 0:
                d.rich.stop()
                if _display is d:
                    _display = None


def track(what: str, total: int | None = None, unit: str = "", stream: TextIO | None = None) -> Quiet:
    """A progress line for one wait: ``Shown`` on a terminal, else ``Quiet``. Not yet started:
    ``start()``/``stop()``, or use it as a context manager."""
    stream = stream if stream is not None else sys.stderr
    if is_terminal(stream):
        return Shown(what, total, unit, stream)
    return Quiet(what, total, unit)


def _same_terminal(a, b) -> bool:
    if a is b:
        return True
    try:
        return os.path.samestat(os.fstat(a.fileno()), os.fstat(b.fileno()))
    except (AttributeError, OSError, ValueError):
        return False


def echo(msg: str, stream: TextIO) -> None:
    """``print(msg, file=stream)``, kept clear of a live display on the same terminal."""
    with _lock:
        d = _display
        if d is not None and _same_terminal(stream, d.stream) and is_terminal(stream):
            stream.flush()
            d.console.print(msg, markup=False, highlight=False, emoji=False, soft_wrap=True)
            return
    print(msg, file=stream, flush=True)


def seconds(s: float) -> str:
    """``12s``, or ``3m04s`` past a minute."""
    return f"{s:.0f}s" if s < 59.5 else f"{int(s // 60)}m{int(s % 60):02d}s"
