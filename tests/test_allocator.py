"""The `vitrina` command runs on mimalloc (vitrina.allocator), unless told to keep glibc's."""

import os
import subprocess
import sys

import pytest

from vitrina.allocator import CHOICE, mimalloc_library, preload_environment


def _command_stderr(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", CHOICE)}
    # mimalloc says so on stderr when it starts in a process, with MIMALLOC_VERBOSE
    return subprocess.run([sys.executable, "-m", "vitrina", "--help"], env={**clean, "MIMALLOC_VERBOSE": "1", **env},
                          capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="LD_PRELOAD is how the allocator is chosen")
def test_the_command_reexecutes_itself_on_mimalloc_and_still_answers():
    assert mimalloc_library() is not None  # a dependency: installed with vitrina
    done = _command_stderr()
    assert done.returncode == 0 and "Usage" in done.stdout
    assert "mimalloc: process init" in done.stderr
    assert done.stderr.count("mimalloc: process init") == 1  # re-executed once, not in a loop


def test_system_keeps_glibc_and_an_unknown_allocator_is_refused():
    kept = _command_stderr(**{CHOICE: "system"})
    assert kept.returncode == 0 and "mimalloc" not in kept.stderr
    refused = _command_stderr(**{CHOICE: "jemalloc"})
    assert refused.returncode != 0 and "choose one of mimalloc, system" in refused.stderr


def test_a_process_that_already_preloads_mimalloc_is_not_reexecuted():
    env = preload_environment({})
    assert env is not None and "libmimalloc" in env["LD_PRELOAD"]
    assert preload_environment(env) is None
    other = preload_environment({"LD_PRELOAD": "/opt/libtrace.so"})
    assert other is not None and other["LD_PRELOAD"].endswith(" /opt/libtrace.so")  # kept, after mimalloc
