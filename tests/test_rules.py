import json
import shutil
from importlib import resources
from pathlib import Path

import pytest

from vitrina.understand.rules import RulesError, load_rules

pytestmark = pytest.mark.fast


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


def test_unknown_broader_term_is_rejected(tmp_path):
    root = copy_rules(tmp_path)
    edit(root, "occasions", lambda terms: terms["running"].update(within="jogging in place"))
    with pytest.raises(RulesError, match="terms.running.within: unknown term 'jogging in place'"):
        load_rules("fashion", root)


def test_unknown_sized_kinds_are_rejected(tmp_path):
    root = copy_rules(tmp_path)
    edit(root, "occasions", lambda terms: terms["gift"].update(sized={"garments": ["frocks"]}))
    with pytest.raises(RulesError, match="terms.gift.sized.garments: unknown term 'frocks'"):
        load_rules("fashion", root)
    edit(root, "occasions", lambda terms: terms["gift"].update(sized={"sizes": ["clothes"]}))
    with pytest.raises(RulesError, match="terms.gift.sized: unknown vocabulary 'sizes'"):
        load_rules("fashion", root)


def test_a_phrase_too_long_to_be_matched_is_rejected(tmp_path):
    root = copy_rules(tmp_path)
    edit(root, "colors", lambda terms: terms["blue"].setdefault("aliases", []).append("the blue of a summer sky"))
    with pytest.raises(RulesError, match="terms.blue: 'the blue of a summer sky' is longer than 5 words"):
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


def _edit_ranking(root: Path, domain: str, change) -> None:
    path = root / domain / "ranking.json"
    data = json.loads(path.read_text())
    change(data["profiles"])
    path.write_text(json.dumps(data))


def test_ranking_profiles_come_from_the_domain_over_the_generic_ones():
    from vitrina.rank.profiles import load_profiles

    fashion, generic = load_profiles("fashion"), load_profiles("generic")
    assert fashion.get("full").signals["lexical"] == 0.10  # attribute-rich: metadata and constraints lead
    assert generic.get("full").signals["lexical"] == 0.60  # titles only: the words matter most
    # The fashion file changes only the signals; the retrievers come from the generic profile.
    assert fashion.get("full").retrievers == generic.get("full").retrievers
    # Ablations are profiles that inherit: rrf inherits bm25, which inherits full.
    rrf = fashion.get("rrf")
    assert rrf.retrievers == {"bm25": 1.0, "vector": 1.0} and rrf.signals == {} and rrf.understanding == "words"
    with pytest.raises(RulesError, match="no ranking profile 'fulll'"):
        fashion.get("fulll")


def test_bad_ranking_profiles_name_the_file_and_spot(tmp_path):
    from vitrina.rank.profiles import load_profiles

    root = copy_rules(tmp_path)
    _edit_ranking(root, "generic", lambda p: p["full"]["signals"].update(lexical="a lot"))
    with pytest.raises(RulesError, match=r"generic/ranking.json: profiles.full.signals.lexical"):
        load_profiles("generic", root)
    root = copy_rules(tmp_path / "2")
    _edit_ranking(root, "generic", lambda p: p["full"].update(typo=1))
    with pytest.raises(RulesError, match="typo"):
        load_profiles("generic", root)
    root = copy_rules(tmp_path / "3")
    _edit_ranking(root, "generic", lambda p: p["full"].update(inherits="rrf"))
    with pytest.raises(RulesError, match="in a circle"):
        load_profiles("generic", root)


def test_a_new_profile_is_one_entry_in_data(tmp_path):
    from vitrina.rank.profiles import load_profiles

    root = copy_rules(tmp_path)
    _edit_ranking(root, "fashion", lambda p: p.update(titles={"inherits": "full", "signals": {"lexical": 1.0}}))
    titles = load_profiles("fashion", root).get("titles")
    assert titles.signals == {"lexical": 1.0} and titles.retrievers == load_profiles("generic").get("full").retrievers


def test_settings_refuse_unknown_names_and_out_of_range_numbers():
    from pydantic import ValidationError

    from vitrina.config import Settings

    with pytest.raises(ValidationError, match="domian"):
        Settings(domian="generic")
    with pytest.raises(ValidationError, match="candidates"):
        Settings(retrieval={"candidates": -5})
    with pytest.raises(ValidationError, match="hnsw_eff"):
        Settings(retrieval={"hnsw_eff": 64})
    assert Settings(retrieval={"candidates": 300}).retrieval.candidates == 300


def test_a_new_vocabulary_behaves_by_its_data_alone(tmp_path):
    """penalty / replaces / soft / hard live in the vocabulary file, not in code keyed by its name."""
    from vitrina.rank.signals import Constraints
    from vitrina.understand.parser import QueryParser

    root = copy_rules(tmp_path)
    (root / "fashion" / "necklines.json").write_text(json.dumps({
        "field": "neckline", "penalty": 0.4, "replaces": True,
        "terms": {"v neck": {"aliases": ["v-neck"]}, "crew neck": {}}}))
    parser = QueryParser(load_rules("fashion", root))
    parsed = parser.parse("v-neck tshirt")
    (neck,) = [c for c in parsed.constraints if c.vocabulary == "necklines"]
    assert neck.penalty == 0.4 and neck.replaces and not neck.soft
    matching = Constraints.one({"neckline": "V Neck"}, parsed)
    assert "neckline: v neck" in matching.matches
    assert Constraints.one({"neckline": "crew neck"}, parsed).score == pytest.approx(matching.score - 0.4)


def test_a_comparison_naming_two_terms_is_rejected(tmp_path):
    root = copy_rules(tmp_path)
    edit(root, "occasions", lambda terms: terms["party"]["compared"].append("less formal"))
    with pytest.raises(RulesError, match="terms.party.compared: 'less formal' already names 'casual'"):
        load_rules("fashion", root)


def test_an_outfits_default_must_be_a_term_of_its_vocabulary(tmp_path):
    root = copy_rules(tmp_path)
    path = root / "fashion" / "occasions.json"
    path.write_text(path.read_text().replace('"unnamed_outfit": "smart casual"', '"unnamed_outfit": "black tie"'))
    with pytest.raises(RulesError, match="unnamed_outfit 'black tie' is not a term"):
        load_rules("fashion", root)


def test_what_ruling_out_asks_for_must_be_a_known_term(tmp_path):
    root = copy_rules(tmp_path)
    edit(root, "patterns", lambda terms: terms["printed"].update(ruled_out_asks={"patterns": ["plainish"]}))
    with pytest.raises(RulesError, match="terms.printed.ruled_out_asks.patterns: unknown term 'plainish'"):
        load_rules("fashion", root)


def test_what_a_layer_is_beneath_another_must_name_known_terms(tmp_path):
    root = copy_rules(tmp_path)
    edit(root, "categories", lambda terms: terms["under layer"].update(when_beneath={"over layer": "base layer"}))
    with pytest.raises(RulesError, match="terms.under layer.when_beneath: unknown term 'base layer'"):
        load_rules("fashion", root)


def test_a_relation_must_be_one_of_the_terms_aliases(tmp_path):
    root = copy_rules(tmp_path)
    edit(root, "genders", lambda terms: terms["women"].update(relations=["mom", "stepmom"]))
    with pytest.raises(RulesError, match=r"terms.women.relations: not aliases: \['stepmom'\]"):
        load_rules("fashion", root)


def test_an_event_worn_to_must_be_an_alias_and_name_a_known_term(tmp_path):
    root = copy_rules(tmp_path)
    edit(root, "occasions", lambda terms: terms["gift"].update(worn_to={"housewarming": "party"}))
    with pytest.raises(RulesError, match=r"terms.gift.worn_to: not aliases: \['housewarming'\]"):
        load_rules("fashion", root)
    edit(root, "occasions", lambda terms: terms["gift"].update(worn_to={"birthday": "bash"}))
    with pytest.raises(RulesError, match=r"terms.gift.worn_to: unknown terms \['bash'\]"):
        load_rules("fashion", root)
