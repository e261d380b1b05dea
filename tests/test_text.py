"""ingest.text: the shared text rules, exact values; and no module keeps its own copy of them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ingest import text as t

ROOT = Path(__file__).resolve().parent.parent


# -- words ----------------------------------------------------------------------------------------
def test_words_any_script_or_ascii_only() -> None:
    sample = "Überlingen's 2,500 snake_case R&D naïve"
    assert t.words(sample) == ["überlingen", "s", "2", "500", "snake", "case", "r", "d", "naïve"]
    assert t.ascii_words(sample) == ["berlingen", "s", "2", "500", "snake", "case", "r", "d",
                                     "na", "ve"]
    assert t.WORD_CHARS.findall("snake_case naïve") == ["snake_case", "naïve"]


def test_compound_words_and_tokens() -> None:
    assert t.COMPOUND_WORD.findall("Nvidia's R&D at J.Gold, 910C and O1.") == [
        "Nvidia's", "R&D", "at", "J.Gold", "910C", "and", "O1"]
    assert t.TOKEN.findall("It's $5.5bn!") == ["It", "'", "s", "$", "5", ".", "5bn", "!"]


# -- stop words -----------------------------------------------------------------------------------
def test_stop_lists_hold_their_words() -> None:
    assert len(t.STOPWORDS) == 56 and {"the", "whose", "be", "been"} <= t.STOPWORDS
    assert "not" not in t.STOPWORDS  # a query's "not" is a term
    assert len(t.FACTLESS) == 78
    assert t.FACTLESS - t.STOPWORDS == set(
        "he her his she we our not no yes so than then also said says say according about "
        "after over more most such".split())
    assert t.STOPWORDS - t.FACTLESS == {"whose"}
    assert len(t.FUNCTION_WORDS) == 55 and {"what", "article", "mention"} <= t.FUNCTION_WORDS
    assert len(t.COMMON_WORDS) == 77 and {"ceo", "however", "passages"} <= t.COMMON_WORDS
    assert len(t.PLAIN_WORDS) == 123 and t.STOPWORDS - t.PLAIN_WORDS == {"be", "been"}
    assert {"ceo", "cto", "mr", "please"} <= t.PLAIN_WORDS


# -- sentences ------------------------------------------------------------------------------------
def test_sentences_split_after_end_punctuation() -> None:
    text = "He paid $5.5 billion. Then U.S. firms left! Why? 2026 came."
    assert t.sentences(text) == ["He paid $5.5 billion.", "Then U.S.", "firms left!", "Why?",
                                 "2026 came."]
    assert t.sentences("  One.   Two  ") == ["One.", "Two"]
    assert t.sentences("") == [] and t.sentences(" \n ") == []


def test_sentences_before_a_capital_keep_abbreviations() -> None:
    text = "He paid $5.5 billion. Then U.S. firms left! Why? 2026 came."
    assert t.sentences(text, capital=True) == [
        "He paid $5.5 billion.", "Then U.S. firms left!", "Why?", "2026 came."]
    assert t.sentences('e.g. the model. "Quoted" start. lower start.', capital=True) == [
        "e.g. the model.", '"Quoted" start. lower start.']


@pytest.mark.parametrize("markers", ["", "follow", "clauses"])
@pytest.mark.parametrize("capital", [False, True])
def test_sentences_do_not_end_at_titles_or_numbered_abbreviations(
        markers: t.Markers, capital: bool) -> None:
    text = ("Funded by Grant No. 0801. Dr. Bose met St. Elizabeth's abbot, e.g. at Fig. 2 vs. "
            "Mr. Lee. The answer was No. Then it ended.")
    assert t.sentences(text, markers=markers, capital=capital) == [
        "Funded by Grant No. 0801.",
        "Dr. Bose met St. Elizabeth's abbot, e.g. at Fig. 2 vs. Mr. Lee.",
        "The answer was No.", "Then it ended."]


def test_split_sentences_at_lines_and_cjk_keeping_breaks() -> None:
    text = "Stop. 停。Go! \n\nNext line\nlast"
    parts = t.split_sentences(text, lines=True, cjk=True, keep_breaks=True)
    assert parts == ["Stop.", " ", "停。", "", "Go!", " \n\n", "Next line", "\n", "last"]
    assert "".join(parts) == text
    assert t.split_sentences(text) == ["Stop.", "停。Go!", "Next line\nlast"]
    assert t.sentences("A.\nB\n\nC", lines=True) == ["A.", "B", "C"]


def test_sentences_and_citation_markers() -> None:
    answer = "One fact. [1] Other fact [2]. More [3] and more."
    assert t.sentences(answer, markers="follow") == [
        "One fact. [1]", "Other fact [2].", "More [3] and more."]
    assert t.sentences(answer) == ["One fact.", "[1] Other fact [2].", "More [3] and more."]
    parts = t.split_sentences("Up [1] and down [2]. Next. [3] End", markers="clauses",
                              keep_breaks=True)
    assert parts == ["Up [1]", " ", "and down [2].", " ", "Next. [3]", " ", "End"]


def test_first_sentence() -> None:
    assert t.first_sentence("  No. Yes.") == "No."
    assert t.first_sentence("No stop at all") == "No stop at all"
    assert t.first_sentence("   ") == ""


# -- stems ----------------------------------------------------------------------------------------
def test_prefix_stem() -> None:
    assert [t.stem(w) for w in ["revenue", "revenues", "chips", "at", "nanometers"]] == [
        "reve", "reven", "chip", "at", "nanome"]
    assert t.stems(["Revenues grew", "in 2024."]) == {"reven", "grew", "in", "2024"}


def test_suffix_stem_and_singular() -> None:
    assert [t.suffix_stem(w) for w in
            ["running", "opened", "watches", "chips", "quickly", "bus", "sing"]] == [
        "runn", "open", "watch", "chip", "quick", "bus", "sing"]
    assert [t.singular(w) for w in ["chips", "bus", "gas", "is", "series"]] == [
        "chip", "bus", "gas", "is", "serie"]


# -- numbers --------------------------------------------------------------------------------------
def test_numbers() -> None:
    assert t.numbers_in("$5.5 billion, 2,500 staff, 1,234.5 km in 2024.") == {
        "5.5", "2500", "1234.5", "2024"}
    assert t.numbers_in("no digits") == set()
    assert t.drop_digit_group_commas("2,500-strong, 1,5 and 1,234,567") == (
        "2500-strong, 1,5 and 1234567")


def test_same_number_drops_zero_decimals_and_leading_zeros_only() -> None:
    assert [t.same_number(n) for n in ["687.0", "228.00", "09", "00", "0.5", "1432"]] == [
        "687", "228", "9", "0", "0.5", "1432"]
    # a version's decimals are not zeros to drop
    assert [t.same_number(n) for n in ["3.10", "3.11.0", "5.50"]] == ["3.10", "3.11.0", "5.50"]


def test_spelled_dates_writes_iso_dates_and_months_in_words() -> None:
    text = "Released 2021-10-04, updated 2023-05-01 00:00:00, supported until 2027-10."
    assert t.spelled_dates(text) == "October 4 2021\nMay 1 2023\nOctober 2027"
    assert t.spelled_dates("2010-13, 2019-2020, 12-05-2021, 2021-00-10") == ""


# -- citation markers -----------------------------------------------------------------------------
def test_citation_markers_have_one_to_three_digits() -> None:
    assert t.CITATION.findall("a [1] b [12] c [123] d [1234] e [x] f [ 2]") == ["1", "12", "123"]
    assert t.strip_citations("fell [9]. Up [1000]") == "fell . Up [1000]"
    assert t.strip_citations("A [1][2] B", " ") == "A    B"


# -- one home -------------------------------------------------------------------------------------
# Files outside this change that still hold their own copy, and which: each is expected to keep
# failing the check until moved to ingest.text, so this list only shrinks.
PENDING: dict[str, str] = {}  # file -> the kinds of copy it may still hold (none left)
_WORD_PATTERNS = {t.WORD.pattern, t.ASCII_WORD.pattern, t.WORD_CHARS.pattern,
                  t.COMPOUND_WORD.pattern, t.TOKEN.pattern, r"[a-z0-9]{3,}"}


def _word_lists(tree: ast.AST) -> list[set[str]]:
    """Each literal word list: `"a b c".split()`, or a set, list or tuple of strings."""
    found: list[set[str]] = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "split" and isinstance(node.func.value, ast.Constant)
                and isinstance(node.func.value.value, str)):
            found.append(set(node.func.value.value.split()))
        elif isinstance(node, ast.Set | ast.List | ast.Tuple):
            found.append({e.value for e in node.elts
                          if isinstance(e, ast.Constant) and isinstance(e.value, str)})
    return found


def _copies(path: Path) -> set[str]:
    """Which shared rules `path` defines again: a stop list (a word list holding 15 or more of
    STOPWORDS), a sentence-end pattern, a word pattern, a citation-marker pattern, a stemmer."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    kinds = {"stop"} if any(len(w & t.STOPWORDS) >= 15 for w in _word_lists(tree)) else set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        if re.search(r"\(\?<=\[[.!?。]", node.value):
            kinds.add("sentence")
        if node.value in _WORD_PATTERNS:
            kinds.add("word")
        if re.search(r"\\\[\(?\\d\{1,", node.value):
            kinds.add("marker")
    if any(isinstance(n, ast.FunctionDef) and re.search(r"(^|_)stems?$", n.name)
           for n in ast.walk(tree)):
        kinds.add("stem")
    return kinds


def _sources() -> list[Path]:
    found = [p for folder in ("assistant", "ingest", "evals", "benchmarks")
             for p in sorted((ROOT / folder).rglob("*.py"))]
    return [p for p in found if p != ROOT / "ingest" / "text.py"]


def test_the_check_sees_a_copy() -> None:
    assert _copies(ROOT / "ingest" / "text.py") == {"stop", "sentence", "word", "marker", "stem"}


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_keeps_its_own_text_rules(path: Path) -> None:
    pending = set(PENDING.get(str(path.relative_to(ROOT)), "").split())
    assert _copies(path) == pending
