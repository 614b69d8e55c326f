"""Every phrase said to have a documented source is one the tables read (issue 17).

``reason_rules.SOURCED_WORDS`` is what ``bench/corpus_folds.py`` keeps in every fold:
an entry that no row reads would make the left-out figure claim a source for nothing.
"""

from __future__ import annotations

from returnpath.parsers.reason_rules import LATE_RULES, PHRASE_SOURCES, RULES, SOURCED_WORDS


def test_every_sourced_phrase_is_read_by_a_row() -> None:
    words = {w for row in (*RULES, *LATE_RULES) for w in row.words}
    assert sorted(SOURCED_WORDS - words) == []


def test_every_phrase_source_names_where_it_comes_from() -> None:
    assert all(source.strip() and source != phrase for phrase, source in PHRASE_SOURCES.items())
    assert all(phrase == phrase.lower() for phrase in PHRASE_SOURCES)
