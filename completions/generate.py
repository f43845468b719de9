"""Regenerate the shell completion scripts from the CLI: `python completions/generate.py`.

The scripts ask `ieclid` itself for candidates at completion time, so they stay right
as options change; regenerate them when the protocol or the program name changes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHELLS = {"bash": "ieclid.bash", "zsh": "_ieclid", "fish": "ieclid.fish"}


def script(shell: str) -> str:
    env = {**os.environ, "_IECLID_COMPLETE": f"{shell}_source"}
    result = subprocess.run(
        [sys.executable, "-m", "ieclid"], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout


def main() -> None:
    for shell, name in SHELLS.items():
        (HERE / name).write_text(script(shell))
        print(f"wrote completions/{name}")


if __name__ == "__main__":
    main()
