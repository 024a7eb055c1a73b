"""The machine a benchmark ran on, written beside its figures."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime

import psutil


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as handle:  # the model name; psutil does not report it
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else psutil.cpu_count()
    return {"cpu": cpu, "cores": cores, "memory_gb": round(psutil.virtual_memory().total / 1024 ** 3, 1),
            "system": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
            "when": datetime.now(UTC).isoformat(timespec="seconds")}
