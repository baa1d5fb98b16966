"""The operator's shell: a command run as pasted into bash, with the virtualenv active, and with or
without a terminal on stdin (the commands that ask before destroying something behave differently)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def paste(
    command: str, env: dict[str, str], typed: str | None = None, timeout: float = 240, cwd: Path = PROJECT_ROOT
) -> tuple[int, str]:
    """(exit code, stdout and stderr) of `command` run by bash from `cwd` (the project folder). With
    `typed`, stdin is a terminal on which that has been typed; without, stdin is empty and not a terminal."""
    env = {**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}
    controller, terminal = pty.openpty() if typed is not None else (None, subprocess.DEVNULL)
    try:
        if controller is not None:
            os.write(controller, typed.encode())  # the terminal holds the line until it is read
        done = subprocess.run(  # noqa: S603 - the command under test, run as a shell would
            ["bash", "-c", command],
            cwd=cwd,
            env=env,
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
    finally:
        if controller is not None:
            os.close(terminal)
            os.close(controller)
    return done.returncode, done.stdout
