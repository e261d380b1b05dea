"""The kind of answer a question asks for, and whether a drafted answer supplies one.

"Which newspaper interviewed Ren Zhengfei?" answered "Ren said in a newspaper interview that..."
is grounded and on topic but dodges the asked slot: no newspaper is named. `expected` reads the
slot from the question (a year, a date, a number, a person, a place, a name, a yes/no) and
`satisfies` checks, leniently, that the answer holds something of that kind. It judges form,
not correctness: any year answers "what year", any name not taken from the question answers
"which newspaper". No model; the words, stop lists, numbers and markers are those of `ingest.text`.
"""

from __future__ import annotations

import re

from assistant.rag.grounding import is_refusal
from ingest.text import (
    COMMON_WORDS,
    FUNCTION_WORDS,
    NUMBER,
    WORD,
    ascii_words,
    numbers_in,
    split_sentences,
    strip_citations,
)

KINDS = ("year", "date", "number", "person", "place", "direction", "name", "yesno", "choice")
# How a retry instruction can name the missing slot ("Answer with a year").
WANTED = {
    "year": "a year", "date": "a date or time", "number": "a number", "person": "a person's name",
    "place": "a place", "direction": "a direction", "name": "a name", "yesno": "yes or no",
    "choice": "one of the two options",
}

_AUX = set("do does did is are was were has have had can could will would should may might must "
           "shall".split())
_COPULA = {"is", "was", "are", "were"}
_WH = {"what", "which", "who", "whom", "whose", "when", "where", "why", "how"}
# Words a clause can start with before its question word: "In which game", "From what year".
_LEAD = set("in on at from to for by of during after before since until into through with "
            "within".split())
_DETERMINER = set("the a an its their his her this that these those".split())
# "how <word>" asks for a quantity.
_HOW_NUMBER = set("many much long far wide big large old tall deep high often heavy fast".split())
# Head nouns of "which/what <noun>" (or "what is the <noun> of"), by the kind they ask for.
_NOUNS = {
    "year": "year".split(),
    "date": "date day month century decade".split(),
    "number": "number percentage percent amount proportion size population length height "
              "distance speed price cost temperature total width depth share".split(),
    "person": "person man woman leader king queen emperor president ceo founder author "
              "individual figure player artist star singer writer duke pope bishop commander "
              "scientist chairman director analyst executive ruler prince princess lord mayor "
              "minister official officer general people".split(),
    "place": "country city town village region state province continent river lake island "
             "mountain place location sea ocean county capital nation territory valley site "
             "port tributary".split(),
    "direction": "direction".split(),
    "name": "name newspaper paper magazine journal publication outlet company firm consultancy "
            "corporation business organization organisation institution agency university "
            "school college team club band chip product brand model platform service app game "
            "tool book film movie song album network exchange bank party dynasty church "
            "monastery empire kingdom army law treaty battle war religion language dialect "
            "nickname".split(),
}
_KIND_OF = {noun: kind for kind, nouns in _NOUNS.items() for noun in nouns}

_MONTH = re.compile(
    r"\b(Jan(uary)?|Feb(ruary)?|Mar(ch)?|Apr(il)?|May|June?|July?|Aug(ust)?|Sept?(ember)?"
    r"|Oct(ober)?|Nov(ember)?|Dec(ember)?|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday"
    r"|Sunday)\b"
)
_TIME_WORDS = set(
    "spring summer autumn winter century centuries decade decades millennium today yesterday "
    "tomorrow tonight ago bc ad bce ce bp".split()
)
# A number followed by one of these is a measure, not a year ("1,230 kilometres (764 miles)").
_MEASURE = re.compile(r"\s*(%|percent|per\b|[kc]?m\b|kilomet|met|mile|f(ee|oo)?t\b|ft\b|kg\b|"
                      r"ton|people|men\b|yuan|dollars|euros|million|billion)", re.IGNORECASE)
_UNITS = set("year years month months week weeks day days hour hours minute minutes".split())
_DECADE = re.compile(r"\b\d{2,4}0s\b|'\d0s\b")
_NUMBER_WORDS = set(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty "
    "ninety hundred hundreds thousand thousands million millions billion billions trillion "
    "dozen dozens half quarter twice once single couple pair".split()
)
_CAPITAL = re.compile(r"[^\W\d_][\w'’-]*")  # any script's letters: "Überlingen"
_COMPASS = re.compile(r"\b((north|south)(east|west)?|east|west)(ern|wards?)?\b"
                      r"|\b(up|down)(stream|wards?|hill)\b|\b(left|right|inland|clockwise)\b")
# Where without a name: a relative position ("parallel to the canalized Rhine").
_POSITION = re.compile(r"\b(parallel|along|alongside|across|through|between|near|into|beneath|"
                       r"beside|towards?)\b")
_YESNO = set("yes no not never true false correct incorrect indeed neither".split())
_OPPOSITES = {
    ("before", "after"), ("earlier", "later"), ("more", "less"), ("higher", "lower"),
    ("increase", "decrease"), ("rise", "fall"), ("same", "different"), ("larger", "smaller"),
}
# Capitalised at the start of a sentence without being a name, including a model's preambles
# ("Based on the passages, ...", "Unfortunately, ...").
_OPENERS = _NUMBER_WORDS | _YESNO | set(
    "after also although among another any approximately around at before between born despite "
    "during each either every following given including instead it just last later many most "
    "much near nearly next nobody now once only perhaps several since such than thanks that "
    "then therefore this those though through throughout thus together under unlike until upon "
    "usually we whether within without yet based sure certainly unfortunately sorry hence "
    "specifically notably finally first firstly second secondly generally typically recently "
    "previously rather actually essentially ultimately".split()
)


def _clauses(question: str) -> list[list[str]]:
    """The question's comma-separated clauses as word lists, leading prepositions dropped."""
    clauses = []
    for part in question.split(","):
        words = ascii_words(part)
        while words and words[0] in _LEAD and len(words) > 1 and words[1] in _WH:
            words = words[1:]
        if words:
            clauses.append(words)
    return clauses


def _head(words: list[str]) -> str | None:
    """The kind asked by the words after "what"/"which": "which Huawei chip", "what is the
    population of", "what is Nvidia's market share", "which of the tributaries", "what year",
    "what is the highest point called"."""
    named = "called" in words
    if words[:1] == ["of"]:
        words = words[1:]
    elif words[:1] and words[0] in _COPULA:
        if words[1:2] and words[1] in _DETERMINER:
            words = words[2:]
        elif words[2:3] == ["s"]:  # a possessive
            words = words[3:]
        else:
            return "name" if named else None
    if words[:1] and words[0] in _DETERMINER:
        words = words[1:]
    for word in words[:4]:
        if word in _AUX or word in _DETERMINER or word in {"of", "that", "in", "for"}:
            break  # "what carries a significant amount": the noun is not the asked one
        for noun in (word, word.removesuffix("s"), word.removesuffix("es")):
            if noun in _KIND_OF:
                return _KIND_OF[noun]
    return "name" if named else None


def _wh_kind(wh: str, rest: list[str], question: str) -> str | None:
    if wh in {"who", "whom", "whose"}:
        # "Who is Jensen Huang?" asks for a description, not a person.
        if rest[:1] and rest[0] in _COPULA and " ".join(rest[1:]) in _phrases(question):
            return None
        return "person"
    if wh == "when":
        return "date"
    if wh == "where":
        return "place"
    if wh == "how":
        return "number" if rest and rest[0] in _HOW_NUMBER else None
    if wh in {"what", "which"}:
        return _head(rest)
    return None  # why


def _options(question: str) -> tuple[str, str] | None:
    """The two opposites a question offers: "consistent or inconsistent", "before or after"."""
    for first, second in re.findall(r"\b([a-z]+) or ([a-z]+)\b", question.lower()):
        if (first, second) in _OPPOSITES or (second, first) in _OPPOSITES or any(
            second == prefix + first for prefix in ("in", "un", "dis", "non", "im", "ir", "il")
        ):
            return first, second
    return None


def _subordinate(words: list[str]) -> bool:
    """ "When the Rhine emerges from Lake Constance which way does it flow": the clause opened
    by when/where is not the question, a later question word is."""
    return words[0] in {"when", "where"} and len(words) > 1 and words[1] not in _AUX and any(
        w in _WH for w in words[2:])


def expected(question: str) -> str | None:
    """The kind of answer `question` asks for, one of KINDS, or None when no slot is checked
    (why, how, what-is questions)."""
    clauses = _clauses(question)
    for words in clauses:
        if words[0] in _AUX:
            if _options(question):
                return "choice"
            return None if "or" in ascii_words(question) else "yesno"  # "..., or do they differ?"
        if words[0] in _WH and not _subordinate(words):
            return _wh_kind(words[0], words[1:], question)
    for words in clauses:  # "The Rhine forms a border with which country?"
        for i, word in enumerate(words):
            if word in _WH and not _subordinate(words[i:]):
                return _wh_kind(word, words[i + 1:], question)
    return None


def _phrases(text: str) -> list[str]:
    """Runs of capitalised words ("Lake Überlingen", "People's Daily"), lower-cased; a
    sentence's first word counts unless it is an ordinary opener ("Several", "After")."""
    phrases: list[str] = []
    for sentence in split_sentences(text):
        run: list[str] = []
        end = 0
        for match in _CAPITAL.finditer(sentence):
            word = match.group(0).lower()
            opens = not sentence[: match.start()].strip(" \"'“‘(")
            name = match.group(0)[0].isupper() and not (
                word in COMMON_WORDS or word in FUNCTION_WORDS or word in _TIME_WORDS
                or _MONTH.fullmatch(match.group(0)))  # "19th Century", "May": dates, not names
            if not name or (opens and word in _OPENERS):
                word = ""
            if run and (not word or sentence[end: match.start()].strip()):
                phrases.append(" ".join(run))
                run = []
            if word:
                run.append(word)
            end = match.end()
        if run:
            phrases.append(" ".join(run))
    return [" ".join(WORD.findall(p)) for p in phrases]


def _names(text: str, question: str) -> list[str]:
    """Name phrases of `text` that `question` does not contain ("Huang" after "Jensen Huang");
    nor a plural of its words ("Newspapers reported..." after "which newspaper")."""
    words = WORD.findall(question.lower())
    asked = f" {' '.join(words)} "
    return [p for p in _phrases(text) if f" {p} " not in asked
            and p.removesuffix("s") not in words and p.removesuffix("es") not in words]


def satisfies(answer: str, kind: str | None, question: str = "") -> bool:
    """True when `answer` holds something of `kind` (any answer satisfies None); a name must
    not come from `question`. Raises ValueError for a kind not in KINDS."""
    if kind is None:
        return True
    if kind not in KINDS:
        raise ValueError(f"unknown answer kind {kind!r}; known: {', '.join(KINDS)}")
    text = strip_citations(answer, " ")
    words = set(ascii_words(text))
    numbers = numbers_in(text) - numbers_in(question)  # "in 2014" is no answer to "after 2014?"
    years = {m.group(0) for m in NUMBER.finditer(text) if m.group(0).isdigit()
             and 3 <= len(m.group(0)) <= 4 and m.group(0) in numbers
             and not _MEASURE.match(text, m.end())}
    if kind == "year":
        return bool(years or _DECADE.search(text))
    counted = bool(numbers or words & _NUMBER_WORDS)
    if kind == "date":
        return bool(years or _DECADE.search(text) or _MONTH.search(text) or words & _TIME_WORDS
                    or counted and words & _UNITS)  # "two years later"
    if kind == "number":
        return counted
    if kind == "choice":
        options = _options(question)
        return not options or any(w.startswith(options) for w in words)
    if kind == "yesno":
        return bool(words & _YESNO or "n't" in text or "n’t" in text)
    if kind == "direction":
        return bool(_COMPASS.search(text.lower()))
    if kind == "place" and (_COMPASS.search(text.lower()) or _POSITION.search(text.lower())):
        return True
    return bool(_names(text, question))


def dodged(question: str, answer: str) -> str | None:
    """The kind `question` asks for when `answer` neither supplies it nor refuses, else None."""
    kind = expected(question)
    if kind is None or is_refusal(answer) or satisfies(answer, kind, question):
        return None
    return kind
