"""Spelling correction against the catalog's own words, frequency-ranked (symspellpy).

A word is corrected only when it is unknown: not an English word, not a word of the catalog, not a rule phrase.
So "light" (in "light blue") never becomes "tight", nor "dressy" "dress", nor "bride" "brief"; "jakcet" becomes
the catalog's "jacket", and of two candidates the one the catalog uses more often wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache, cached_property
from importlib import resources

from symspellpy import SymSpell, Verbosity

MIN_LENGTH = 5  # shorter words have too many one-edit neighbours to correct safely
LONG_WORD = 9  # from this length two edits are allowed


@cache
def english_words() -> frozenset[str]:
    """The English frequency list symspellpy ships (82,765 words): words no correction may override."""
    text = (resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt").read_text(encoding="utf-8")
    return frozenset(line.split(" ", 1)[0] for line in text.splitlines() if line)


class SpellingCorrector:
    def __init__(self, catalog_words: Mapping[str, int], rule_words: Iterable[str]):
        self._counts: dict[str, int] = dict(catalog_words)
        for word in rule_words:
            self._counts[word] = self._counts.get(word, 0) + 1  # rule words count even where the catalog lacks them

    def known(self, word: str) -> bool:
        return word in self._counts or word in english_words()

    @cached_property
    def _index(self) -> SymSpell:
        # Built on the first unknown word: most queries need no correction at all.
        index = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word, count in self._counts.items():
            if len(word) >= MIN_LENGTH - 1 and word.isalpha():
                index.create_dictionary_entry(word, max(1, count))
        # Lookups only read the delete index. As lists, its ~100k-1M entries were containers the garbage collector
        # walked on every full collection (100-200 ms pauses in 3% of searches); as tuples of strings they (and
        # then the dict) drop out of its tracking.
        index._deletes = {delete: tuple(words) for delete, words in index._deletes.items()}
        return index

    def prepare(self) -> None:
        """Build the index now rather than on the first unknown word (a warm start)."""
        _ = self._index

    def correct(self, word: str) -> str | None:
        """The most frequent catalog word within reach of an unknown word, or None."""
        if len(word) < MIN_LENGTH or not word.isalpha() or self.known(word):
            return None
        distance = 2 if len(word) >= LONG_WORD else 1
        found = self._index.lookup(word, Verbosity.CLOSEST, max_edit_distance=distance)
        if not found:
            return None
        best = min(found, key=lambda s: (s.distance, -s.count, s.term))
        return best.term if best.term != word else None
