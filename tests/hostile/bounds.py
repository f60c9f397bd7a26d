"""Time bounds for the hostile-input tests: every case ends within its bound or fails.

:func:`within` runs a call in a thread with a deadline; :func:`run_cli` runs the ``nsreason``
command in a subprocess with ``timeout=`` and checks what any hostile case must hold: exit
0, 1 or 2 and no Python traceback.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCENES = REPO / "examples" / "data" / "clevr_val_sample_scenes.json"


def within(seconds: float, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, failing the test when it runs past ``seconds`` (the thread
    is left behind as a daemon); an exception it raises is raised here."""
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            out["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"{getattr(fn, '__name__', fn)} ran past its bound of {seconds} s")
    if "error" in out:
        raise out["error"]
    return out.get("value")


def run_cli(args: Sequence[str | bytes], timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    """``nsreason ARGS`` in a subprocess (killed after ``timeout`` s: the test fails); the
    exit is 0, 1 or 2 and stderr holds no traceback. Output is left as bytes."""
    cmd: list[str | bytes] = [sys.executable, "-c",
                              "import sys; from nsreason.cli import main; sys.exit(main())", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, cwd=REPO)
    except subprocess.TimeoutExpired:
        pytest.fail(f"nsreason {args!r} ran past its bound of {timeout} s")
    assert b"Traceback" not in proc.stderr, proc.stderr.decode("utf-8", "replace")[-3000:]
    assert proc.returncode in (0, 1, 2), (proc.returncode, proc.stderr[-3000:])
    return proc
