"""The committed query sets grade by fields the judge reads; a field it would ignore is refused, naming its line."""

import json
from pathlib import Path

import pytest

from vitrina.evaluate.runner import check_judgments

QUERIES = Path(__file__).resolve().parents[1] / "bench" / "queries"


@pytest.mark.parametrize("name", ["fashion-probe.jsonl", "fashion-vague.jsonl"])
def test_the_committed_sets_use_only_fields_the_judge_reads(name):
    path = QUERIES / name
    specs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    check_judgments(specs, path)
    assert len({spec["id"] for spec in specs}) == len(specs)


def test_a_field_the_judge_ignores_is_refused_with_its_line_and_query():
    specs = [{"id": "a1", "judge": {"articleType": {"Watches": 2}, "price_max": 900}},
             {"id": "a2", "judge": {"articleType": {"Handbags": 2}, "price": {"max": 1200}}}]
    with pytest.raises(ValueError, match=r"q\.jsonl line 2 \(query a2\): judge field 'price' is not one the judge reads"):
        check_judgments(specs, Path("q.jsonl"))
