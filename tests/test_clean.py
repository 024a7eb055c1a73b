"""Cleaning raw feed values: the fast paths give exactly what the plain definitions give, on any text."""

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vitrina.catalog.clean import MISSING, clean_text, html_to_text, is_missing

pytestmark = pytest.mark.fast
SPACES = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2007\u200a\u2028\u2029\u202f\u205f\u3000"
TEXT = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(SPACES + ".<>&;")), max_size=60)


def plain_is_missing(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in MISSING)


def plain_clean_text(value) -> str | None:
    if plain_is_missing(value):
        return None
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(value))).strip() or None


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(TEXT)
def test_cleaning_any_text_is_the_plain_definition(text):
    assert is_missing(text) == plain_is_missing(text)
    assert clean_text(text) == plain_clean_text(text)


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(TEXT)
def test_empty_sentences_collapse_as_the_plain_pattern_collapses_them(text):
    assert re.sub(r"\s*\.(?:\s*\.)+\s*", ". ", text) == re.sub(r"(\s*\.\s*){2,}", ". ", text)


@pytest.mark.parametrize("value", ["NA", "  n/a ", "undefined", "\tNone\n", "", None, float("nan")])
def test_missing_markers_are_missing(value):
    assert is_missing(value) and clean_text(value) is None


def test_html_becomes_sentences():
    assert html_to_text("<p>Soft cotton.</p><br/><br/><ul><li>Machine wash</li><li>Regular fit</li></ul>") \
        == "Soft cotton. Machine wash. Regular fit"
    assert html_to_text("Caf&eacute;\u00a0 au\tlait") == "Café au lait"
