import json
import shutil
from importlib import resources
from pathlib import Path

import pytest

from vitrina.understand.rules import RulesError, load_rules


def copy_rules(tmp_path) -> Path:
    root = tmp_path / "rules"
    shutil.copytree(Path(str(resources.files("vitrina.understand") / "rules")), root)
    return root


def edit(root: Path, name: str, change) -> None:
    path = root / "fashion" / f"{name}.json"
    data = json.loads(path.read_text())
    change(data["terms"])
    path.write_text(json.dumps(data))


def test_packaged_domains_load():
    assert "colors" in load_rules("fashion").vocabularies
    assert "colors" in load_rules("generic").vocabularies


def test_unknown_domain_names_the_known_ones():
    with pytest.raises(RulesError, match="known: fashion, generic"):
        load_rules("furniture")


def test_invalid_json_names_file_and_line(tmp_path):
    root = copy_rules(tmp_path)
    (root / "fashion" / "colors.json").write_text('{"field": "colors",\n "terms": {')
    with pytest.raises(RulesError, match=r"colors.json: invalid JSON at line 2"):
        load_rules("fashion", root)


def test_unknown_include_is_rejected(tmp_path):
    root = copy_rules(tmp_path)
    edit(root, "colors", lambda terms: terms["blue"]["includes"].append("ultramarine"))
    with pytest.raises(RulesError, match="terms.blue.includes: unknown term 'ultramarine'"):
        load_rules("fashion", root)


def test_bad_grade_and_unknown_key_are_rejected(tmp_path):
    root = copy_rules(tmp_path)
    edit(root, "categories", lambda terms: terms["jeans"]["types"].update(jeans=3))
    with pytest.raises(RulesError, match="terms.jeans.types"):
        load_rules("fashion", root)
    edit(root, "categories", lambda terms: terms["jeans"].update(types={"jeans": 1}, synonyms=["denims"]))
    with pytest.raises(RulesError, match="synonyms"):
        load_rules("fashion", root)


def test_edited_rules_change_understanding(tmp_path):
    from vitrina.understand.parser import QueryParser

    root = copy_rules(tmp_path)
    edit(root, "colors", lambda terms: terms["navy"]["aliases"].append("marine"))
    parsed = QueryParser(load_rules("fashion", root)).parse("marine jacket")
    assert [c.term for c in parsed.constraints if c.vocabulary == "colors"] == ["navy"]


def test_ranking_weights_come_from_the_domain_unless_settings_name_them(tmp_path):
    from vitrina.config import RankingWeights, Settings

    def edit_ranking(root: Path, change) -> None:
        path = root / "generic" / "ranking.json"
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))

    assert load_rules("fashion").ranking.lexical == 0.10  # attribute-rich: metadata and constraints lead
    assert load_rules("generic").ranking.lexical == 0.60  # titles only: the words matter most
    root = copy_rules(tmp_path)
    edit_ranking(root, lambda d: d.update(lexical="a lot"))
    with pytest.raises(RulesError, match="ranking.json"):
        load_rules("generic", root)
    edit_ranking(root, lambda d: d.update(lexical=0.5, typo=1))
    with pytest.raises(RulesError, match="typo"):
        load_rules("generic", root)
    chosen = RankingWeights(lexical=0.9)
    assert Settings(weights=chosen).weights == chosen
    assert Settings().weights is None  # the pipeline then takes the domain's
