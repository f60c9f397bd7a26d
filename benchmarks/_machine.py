"""The machine a benchmark ran on, for the report header (shared by the benchmarks)."""

from __future__ import annotations

import datetime
import os
import platform
from typing import Any


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine_info() -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def machine_line(info: dict[str, Any]) -> str:
    return (
        f"machine: {info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable), "
        f"{info['python']}, {info['platform']}; {info['date']}"
    )



def write_json(payload: str, dest: str) -> None:
    """``--json -`` prints the payload; ``--json PATH`` writes it to PATH."""
    if dest == "-":
        print(payload)
    else:
        with open(dest, "w", encoding="utf-8") as f:
            f.write(payload + "\n")
