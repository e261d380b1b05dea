"""The small text rules, in one place: words, stop words, sentences, stems, numbers, markers.

Ingest, the assistant and the evals all read text with these; it is the bottom layer, so it
imports nothing of the project. Where two callers need different behaviour the difference is a
named constant or a parameter here, each saying who relies on it: the BM25 index, the
calibrated answer-or-refuse decision and the eval baselines were measured with these exact rules,
so changing one changes stored results.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Literal

# -- words ----------------------------------------------------------------------------------------
WORD = re.compile(r"[^\W_]+")  # letters and digits of any script: "überlingen", "2024"
ASCII_WORD = re.compile(r"[a-z0-9]+")  # on lower-cased text; "überlingen" gives "berlingen"
WORD_CHARS = re.compile(r"\w+")  # letters, digits and underscores, as `\w` reads them
# A word with inner dots, ampersands, apostrophes or hyphens: "R&D", "J.Gold", "Nvidia's".
COMPOUND_WORD = re.compile(r"[\w][\w.&'’-]*[\w]|[\w]")
TOKEN = re.compile(r"\w+|[^\w\s]")  # a word or one punctuation mark


def words(text: str) -> list[str]:
    """The lower-cased words of `text`, any script, underscores splitting them."""
    return WORD.findall(text.lower())


def ascii_words(text: str) -> list[str]:
    """The lower-cased runs of ASCII letters and digits in `text`."""
    return ASCII_WORD.findall(text.lower())


# -- stop words -----------------------------------------------------------------------------------
# Words that carry no topic: dropped from BM25 queries (an OR over "the" would make FTS5 score
# nearly every chunk, slowly, for no ranking gain) and from the question words packing matches.
STOPWORDS = frozenset(
    "a an and are as at be been but by can could did do does for from had has have how i if in "
    "into is it its of on or that the their them there these they this those to was were what "
    "when where which who whom whose why will with would you your".split()
)
# Words that carry no fact: a sentence is not "supported" by sharing these with a passage (the
# eval scorers) nor shown as the source's supporting sentence for them (the UI).
FACTLESS = (STOPWORDS - {"whose"}) | frozenset(
    "he her his she we our not no yes so than then also said says say according about after "
    "over more most such".split()
)
# Question words that carry no subject of their own (grounding's content words).
FUNCTION_WORDS = frozenset(
    "what which when where whom whose does did have has been were will would could should "
    "many much long tell name named give list explain describe mean means said says about "
    "into than then them they their there article articles text quoted quote mentioned "
    "mention according over under without very just only such other like".split()
)
# Capitalised only because they open a sentence or are common vocabulary, not names (grounding's
# names and shared words; its list, with the calibrated decision's signals measured on it).
COMMON_WORDS = frozenset(
    "a about according additionally after also although an and as at based because before both "
    "but by ceo currently during each for from furthermore he her here his however i if in it its "
    "meanwhile more most no none not nothing of on or our overall passage passages she since so "
    "some that the their there these they this those to today we when where which while who why "
    "with yes you your documents document answer question".split()
)
# Capitalised words that start questions or sentences without naming anything (follow-ups'
# names, measured by the follow-up benchmark); a role is not a subject either: "the CEO of
# Xiaomi" is about Xiaomi.
PLAIN_WORDS = (STOPWORDS - {"be", "been"}) | frozenset(
    "shall may might must should so then also after before during since until till under over "
    "onto through between among within without about against around across behind beyond near "
    "according he she we his her our him here yes no not tell give name list describe explain "
    "please mr mrs ms dr some many most all any each every both either neither other another "
    "such ceo cto cfo coo".split()
)


# -- sentences ------------------------------------------------------------------------------------
Markers = Literal["", "follow", "clauses"]
# A stop after one of these ends no sentence: titles before a name ("Dr. Bose", "St. Gallen"),
# "vs.", "Fig.", "e.g.", "i.e.", and "No." before a number ("Grant No. 0801"). Single capitals
# ("George W. Bush") are left out: "the U.S. The" would stay whole too.
_NOT_ABBREVIATION = (
    "".join(rf"(?<!\b{word}\.)" for word in r"Mr Mrs Ms Dr Prof St Jr Sr vs Fig e\.g i\.e".split())
    + r"(?:(?<!\bNo\.)|(?!\s+\d))"
)
# Where a sentence ends, by how citation markers are treated.
_BREAKS: dict[Markers, str] = {
    "": rf"(?<=[.!?]){_NOT_ABBREVIATION}\s+",  # markers are text like any other
    # A marker written after the stop follows the sentence before it ("May. [1] Next" ->
    # "May. [1]", "Next"); one mid-sentence does not end it.
    "follow": rf"(?<=[.!?]){_NOT_ABBREVIATION}\s+(?!\[\d)|(?<=\d\])\s+(?=[A-Z])",
    # As "follow", and every marker ends a clause ("Up [1] and down [2]." -> "Up [1]", "and
    # down [2].").
    "clauses": rf"(?<=[.!?\]]){_NOT_ABBREVIATION}\s+(?!\[)",
}


@cache
def _sentence_break(lines: bool, cjk: bool, markers: Markers, capital: bool) -> re.Pattern[str]:
    pattern = _BREAKS[markers]
    if capital:
        pattern = rf"(?:{pattern})(?=[\"'“(]?[A-Z0-9])"
    if cjk:
        pattern += r"|(?<=[。！？])"
    if lines:
        pattern += r"|\n+"
    return re.compile(f"({pattern})")


def split_sentences(text: str, *, lines: bool = False, cjk: bool = False,
                    markers: Markers = "", capital: bool = False,
                    keep_breaks: bool = False) -> list[str]:
    """`text` cut after . ! or ? and the whitespace that follows, nothing dropped.

    Options, for the callers that need them: `lines` also cuts at line breaks and `cjk` after
    。！？ (injection screening reads any document); `markers` places citation markers, as
    `Markers` says ("follow" for the sentences shown in the UI, "clauses" for citation repair);
    `capital` cuts only before a capital, digit or opening quote ("e.g. the" stays whole:
    packing). With `keep_breaks` the breaks are kept at odd places, so "".join() gives back
    `text`.
    """
    parts = _sentence_break(lines, cjk, markers, capital).split(text)
    return parts if keep_breaks else parts[0::2]


def sentences(text: str, *, lines: bool = False, cjk: bool = False, markers: Markers = "",
              capital: bool = False) -> list[str]:
    """The sentences of `text`, stripped, empty ones dropped; options as `split_sentences`."""
    parts = split_sentences(text, lines=lines, cjk=cjk, markers=markers, capital=capital)
    return [s.strip() for s in parts if s.strip()]


def first_sentence(text: str) -> str:
    """The first sentence of `text` ("" when it has none)."""
    return next(iter(sentences(text)), "")


# -- stems ----------------------------------------------------------------------------------------
# Three crude stemmers, each kept for the results measured with it.
def stem(word: str) -> str:
    """The word's first 4 to 6 letters, 3 letters short of it when it can: "chips" -> "chip",
    "nanometers" -> "nanome" (grounding and the calibrated decision)."""
    return word[: min(6, max(4, len(word) - 3))]


def stems(texts: list[str]) -> set[str]:
    """The stems of every ASCII word in `texts`."""
    return {stem(w) for w in ascii_words(" ".join(texts))}


def suffix_stem(word: str) -> str:
    """The word without one of -ing -ed -es -s -ly, when at least 4 letters remain (eval
    scorers)."""
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def singular(word: str) -> str:
    """The word without a plural's final 's', when at least 3 letters remain (packing)."""
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


# -- numbers --------------------------------------------------------------------------------------
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")  # "5.5", "2,500", "1,234.5"
_DIGIT_GROUP_COMMA = re.compile(r"(?<=\d),(?=\d{3})")


def numbers_in(text: str) -> set[str]:
    """The numbers written in `text`, thousands separators dropped ("2,500" -> "2500")."""
    return {n.replace(",", "") for n in NUMBER.findall(text)}


def same_number(number: str) -> str:
    """One spelling of a number from `numbers_in`, however the cell wrote it: zero decimals
    (a spreadsheet float's) and leading zeros dropped ("687.0" -> "687", "09" -> "9"), other
    decimals kept ("3.10" is not "3.1")."""
    whole, _, decimals = number.partition(".")
    if not decimals.strip("0"):
        decimals = ""
    whole = whole.lstrip("0") or "0"
    return f"{whole}.{decimals}" if decimals else whole


# An ISO date or month, as spreadsheets and tables write them ("2023-05-01", "2023-05-01
# 00:00:00" from openpyxl, "2027-10").
ISO_DATE = re.compile(r"\b(\d{4})-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01]))?\b")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def spelled_dates(text: str) -> str:
    """The ISO dates of `text` in words, one a line ("2023-05-01" -> "May 1 2023", "2027-10"
    -> "October 2027"): a passage's ISO date supports a draft's "May 1, 2023"."""
    return "\n".join(" ".join(filter(None, [MONTHS[int(m) - 1], d.lstrip("0"), y]))
                     for y, m, d in ISO_DATE.findall(text))


def drop_digit_group_commas(text: str) -> str:
    """`text` with the commas between digit groups removed: "2,500-strong" -> "2500-strong"."""
    return _DIGIT_GROUP_COMMA.sub("", text)


# -- citation markers -----------------------------------------------------------------------------
# A citation marker, [1] to [999]: answers cite passages by number; the number is group 1.
CITATION = re.compile(r"\[(\d{1,3})\]")


def strip_citations(text: str, replacement: str = "") -> str:
    """`text` with every citation marker replaced by `replacement`."""
    return CITATION.sub(replacement, text)
