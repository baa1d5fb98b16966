"""The markdown report a benchmark prints as it goes and saves with --out, and its number formats."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path


def fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def fmt_mb(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def fmt_wall(result) -> str:
    """A run's wall time, marked when the run failed; '-' for a run that did not happen."""
    if result is None:
        return "-"
    return fmt_s(result.wall_s) + ("" if result.ok else " (failed)")


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---:" if i else "---" for i in range(len(headers))) + "|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def failure_report(result, lines: int = 40) -> str:
    return f"**{result.job} failed (exit {result.returncode}); log tail:**\n\n```\n{result.tail(lines)}\n```\n"


def command_line() -> str:
    """How this benchmark was started, as `python -m benchmarks.<name> ...` when run as a module."""
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    start = ["-m", spec.name] if spec is not None else sys.argv[:1]
    return shlex.join([Path(sys.executable).name, *start, *sys.argv[1:]])


class Report:
    """The markdown report: printed as it is written (a long benchmark shows progress) and kept for --out."""

    def __init__(self, title: str):
        self.lines: list[str] = []
        self.emit(f"# {title}\n")
        self.emit(f"Command: `{command_line()}`  \nDate: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n")

    def emit(self, text: str) -> None:
        print(text, flush=True)
        self.lines.append(text)

    def save(self, path: Path | None) -> None:
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(self.lines))
            print(f"written {path}")
