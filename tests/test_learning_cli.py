"""`vitrina learn` and `vitrina experiment` on a real service database."""

import json

import pytest
from test_learn import log_traffic
from typer.testing import CliRunner

from vitrina.cli import app
from vitrina.events.db import connect

pytestmark = pytest.mark.fast


def test_learn_and_experiment_commands(tmp_path):
    db = connect(f"sqlite:///{tmp_path / 'vitrina.db'}")
    log_traffic(db, "shop", 400)
    db.dispose()
    runner = CliRunner()
    where = ["--tenant", "shop", "--data-dir", str(tmp_path)]

    def run(*args: str, code: int = 0):
        result = runner.invoke(app, [*args, *where])
        assert result.exit_code == code, result.output
        return result.stdout

    assert json.loads(run("learn", "status"))["version"] == 0
    assert json.loads(run("learn", "objective", "margin"))["margin"] == 1.0
    run("learn", "objective", "mix", "--weights", '{"likes": 1}', code=2)
    updated = json.loads(run("learn", "update"))
    assert updated["version"] == 1 and updated["learned_events"] > 0
    status = json.loads(run("learn", "status"))
    assert status["objective"]["name"] == "margin" and status["versions"][0]["status"] == "served"
    assert json.loads(run("learn", "rollback"))["paused"] is True
    assert json.loads(run("learn", "resume"))["paused"] is False
    variants = json.dumps([{"name": "static", "profile": "full"}, {"name": "learned", "profile": "learned"}])
    run("experiment", "create", "ab1", "--variants", variants)
    run("experiment", "create", "ab2", "--variants", variants, code=2)  # one running experiment per tenant
    run("experiment", "create", "bad", "--variants", json.dumps([{"name": "a", "profile": "full"},
                                                                  {"name": "b", "profile": "nope"}]), code=2)
    assert json.loads(run("experiment", "report", "ab1"))["experiment"]["name"] == "ab1"
    assert json.loads(run("experiment", "stop", "ab1"))["status"] == "stopped"
