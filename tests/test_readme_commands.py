"""The README's commands, run as written, so they stay true: the `Use it` block on the real fashion feed, the
service started as the README starts it, then every curl and CLI line of the service and learning blocks against
it, each one required to succeed (curl with --fail-with-body through a .curlrc: a 4xx fails the line).

Run in a scratch copy of the layout the README assumes (the repo's .venv, `../shared/datasets` beside it). What is
changed, and only this: the fashion catalog there is a 300-product slice of the real one (with the product the
README names), so the ingest takes seconds, not the 20 minutes MiniLM needs for 44k products; port 8000 becomes a
free port; the placeholders `<from the search>` and `<search_id>` become the id of the README's own search.
Every README command is either run here or listed in NOT_RUN with the test that covers it instead."""

import gzip
import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from conftest import FASHION, SHARED, free_port, need, wait_healthy

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
NOT_RUN = {  # a command's start -> why it is not run here, and what covers it
    "make demo": "serves until stopped; tests/test_demo.py runs its catalogs and queries",
    "make test": "this suite is that command",
    ".venv/bin/vitrina simulate": "minutes to hours on the full datasets; tests/test_simulate.py runs the simulator",
    ".venv/bin/python bench/": "benchmarks over the full datasets; tests/test_bench.py runs the quick bench",
    "for s in $(seq 0 19)": "20 simulations; tests/test_experiments.py checks the A/A calibration",
    ".venv/bin/vitrina llm ": "needs the local model server up; tests/test_llm_local.py starts it and runs `llm warm`",
    ".venv/bin/vitrina search \"a gift for a dad who runs\"": "with the model: tests/test_llm_local.py runs search --llm",
    ".venv/bin/vitrina eval --dataset fashion --llm": "minutes of model time; bench/results/eval-fashion-llm*.md",
    ".venv/bin/vitrina train": "a fine-tune on the full Home Depot set takes ~13 min; tests/test_tuning.py trains on a "
                               "real slice, from judgments and from a tenant's events (the CLI's child process)",
    ".venv/bin/vitrina models": "needs a trained index; tests/test_tuning.py runs `models list` and `models use`",
    ".venv/bin/vitrina search --index data/fashion --image": "needs a photo file; tests/test_vision.py searches by "
                                                           "photo through the engine, the API and the storefront",
    ".venv/bin/vitrina eval --images": "scores the whole dev set over 44k photos; bench/results/images-fashion.md",
    "VITRINA_LLM__ENABLED=true": "serves until stopped; tests/test_chat_browser.py serves a tenant with the LLM on",
    "python3 -m pip install -q --no-index": "on the GPU machine the device tool lends, with the wheels carried there; "
                                           "tests/test_gpu_training.py tests what carries the run there and back",
    "python3 bench/gpu_training.py train": "on that GPU machine (minutes of CPU training here); likewise",
}
NAMED_PRODUCT = "10261"


def readme_commands() -> list[str]:
    """Every command of the README's bash blocks: lines joined where a backslash or an open quote continues."""
    commands, current = [], ""
    for block in re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S):
        for line in block.splitlines():
            if not current and (not line.strip() or line.lstrip().startswith("#")):
                continue
            current = f"{current}\n{line}" if current else line
            if current.endswith("\\") or not complete(current):
                continue
            commands.append(current)
            current = ""
    return commands


def complete(command: str) -> bool:
    """No quote left open (a comment's apostrophe does not count)."""
    try:
        shlex.split(command, comments=True)
    except ValueError:
        return False
    return True


def run(command: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def layout(tmp_path):
    """tmp/repo (with the repo's .venv) beside tmp/shared/datasets (the real sets, the fashion feed sliced)."""
    need(FASHION)
    repo, datasets = tmp_path / "repo", tmp_path / "shared" / "datasets"
    repo.mkdir()
    (repo / ".venv").symlink_to(ROOT / ".venv")
    (datasets / "fashion").mkdir(parents=True)
    for item in SHARED.iterdir():
        if item.name != "fashion":
            (datasets / item.name).symlink_to(item)
    for shard in (SHARED / "fashion").glob("*.tar"):
        (datasets / "fashion" / shard.name).symlink_to(shard)
    with gzip.open(FASHION, "rt") as src, gzip.open(datasets / "fashion" / "catalog.jsonl.gz", "wt") as out:
        for n, line in enumerate(src):
            if n < 300 or json.loads(line).get("id") == int(NAMED_PRODUCT):
                out.write(line)
    (repo / "feed.csv").write_text("sku,name,sale_price\nA1,Navy linen shirt,49.5\nA2,White canvas sneakers,59\n")
    return repo


def test_every_readme_command_runs_as_written(layout):
    commands = readme_commands()
    assert len(commands) > 20
    port = str(free_port())
    home = layout / "curl-home"
    home.mkdir()
    (home / ".curlrc").write_text("--fail-with-body\n--silent\n--show-error\n")
    env = {**os.environ, "CURL_HOME": str(home), "VITRINA_API_KEY": "readme-key",
           "VITRINA_SERVICE__ADMIN_KEY": "readme-admin", "VITRINA_LEARNING__UPDATE_EVERY_SECONDS": "3600"}
    ran, search_id, first_hit, server = [], None, None, None
    try:
        for command in commands:
            if any(command.startswith(start) for start in NOT_RUN):
                continue
            text = command.replace("8000", port)
            if search_id:
                text = text.replace("<from the search>", search_id).replace("<search_id>", search_id)
            if text.startswith(".venv/bin/vitrina serve"):
                server = subprocess.Popen(["bash", "-c", f"exec {text}"], cwd=layout, env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                wait_healthy(f"http://localhost:{port}", server)
                ran.append(command)
                continue
            if command.startswith("K="):
                env["K"] = f"Authorization: Bearer {env['VITRINA_API_KEY']}"  # a shell assignment: kept for the rest
                ran.append(command)
                continue
            if "/learning/rollback" in text:  # a version to roll back to, as the worker makes from shoppers' clicks
                learn_something(port, search_id, first_hit, layout, env)
            done = run(text, layout, env)
            assert done.returncode == 0, f"README command failed:\n{command}\n--- stdout\n{done.stdout[-2000:]}\n" \
                                         f"--- stderr\n{done.stderr[-2000:]}"
            if search_id is None and "/search" in text and done.stdout.startswith("{"):
                answer = json.loads(done.stdout)
                search_id, first_hit = answer["search_id"], answer["hits"][0]["product"]["id"]
            ran.append(command)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    assert search_id is not None and any("vitrina serve" in c for c in ran)
    assert any("experiments/ab1" in c for c in ran) and any(c.startswith(".venv/bin/vitrina explain") for c in ran)
    skipped = [c for c in commands if c not in ran]
    assert all(any(c.startswith(start) for start in NOT_RUN) for c in skipped), skipped


def learn_something(port: str, search_id: str, product_id: str, cwd: Path, env: dict) -> None:
    click = json.dumps({"events": [{"event_id": "readme-click", "type": "click", "search_id": search_id,
                                    "product_id": product_id, "position": 1}]})
    for line in (f"curl -H \"$K\" localhost:{port}/v1/default/events -d '{click}'",
                 f'curl -H "$K" -X POST localhost:{port}/v1/default/learning/update'):
        assert run(line, cwd, env).returncode == 0, line
