"""Pure checks on a drafted answer: refusal wording, unsupported facts, citation markers.

A small model asked to answer "only from the passages" still fills gaps from memory (a CEO's
name, a revenue figure, a capital city) or pins the question on an unrelated fact ("revenue was
$5.5 billion" from a passage about a write-down). `is_ungrounded` catches both: names and
numbers that neither the passages nor the question contain, and question terms that the answer
repeats but no passage uses. `repair_citations` and `renumber` fix the markers of an answer
that passes. The words, stop lists, stems and markers are those of `ingest.text`.
"""

from __future__ import annotations

import re

from ingest.text import (
    CITATION,
    COMMON_WORDS,
    FUNCTION_WORDS,
    ascii_words,
    first_sentence,
    numbers_in,
    same_number,
    spelled_dates,
    split_sentences,
    stem,
    stems,
    strip_citations,
)

SENTINEL = "NOT IN DOCUMENTS"

_REFUSAL = re.compile(
    r"not in (the )?documents"
    r"|\bno in (the )?documents"  # the sentinel respelled when its first word is banned
    r"|(passages?|documents?|context|text)\s+(do\s+not|does\s+not|don['’]t|doesn['’]t)\s+"
    r"(contain|mention|state|say|provide|include|specify|give)"
    r"|\bnot\b[^.]{0,30}\b(in|by|from) the (given |provided |retrieved |numbered )?"
    r"(passages?|documents?|context|text)\b"
    r"|no information|(cannot|can['’]t|unable to) (answer|find|determine)"
    r"|(do not|don['’]t) know",
    re.IGNORECASE,
)
_NAME = re.compile(r"\b[A-Z][\w'’-]*")


def is_refusal(text: str) -> bool:
    """True when the draft says the passages lack the answer (in its first sentence or anywhere
    as the exact sentinel)."""
    if SENTINEL in text.upper():
        return True
    return bool(_REFUSAL.search(first_sentence(text)))


def citations(text: str, n_sources: int) -> list[int]:
    """Distinct 1-based citation numbers in `text` that point at one of `n_sources` passages."""
    seen: list[int] = []
    for match in CITATION.finditer(text):
        number = int(match.group(1))
        if 1 <= number <= n_sources and number not in seen:
            seen.append(number)
    return seen


def strip_invalid_citations(text: str, n_sources: int) -> str:
    """Remove markers like [9] that point at no passage."""
    return re.sub(  # a marker goes with the space before it: "fell [9]." -> "fell."
        r"\s*" + CITATION.pattern,
        lambda m: m.group(0) if 1 <= int(m.group(1)) <= n_sources else "",
        text,
    )


def _support(sentence: str, passage: str) -> int:
    """How well `passage` backs `sentence`: shared numbers count 3, shared words 1."""
    numbers = numbers_in(sentence) & numbers_in(passage)
    words = {w for w in ascii_words(sentence) if len(w) > 2 and not w.isdigit()}
    return 3 * len(numbers) + len(words & set(ascii_words(passage)) - COMMON_WORDS)


def best_passage(text: str, passages: list[str]) -> int:
    """The 1-based number of the passage that backs `text` best (the first, on a tie)."""
    scores = [_support(text, p) for p in passages]
    return scores.index(max(scores)) + 1


def repair_citations(text: str, passages: list[str]) -> str:
    """Point each sentence's markers at the passage that backs it best.

    Small models often cite the passage they read last whatever it says; a sentence whose
    cited passages all back it less than another passage gets that passage's number instead.
    """
    fixed = []
    for sentence in split_sentences(text, markers="clauses", keep_breaks=True):
        cited = [int(n) for n in CITATION.findall(sentence) if 1 <= int(n) <= len(passages)]
        if cited:
            plain = strip_citations(sentence, " ")
            scores = [_support(plain, p) for p in passages]
            best = best_passage(plain, passages)
            if max(scores[n - 1] for n in cited) < scores[best - 1]:
                first = True

                def swap(match: re.Match[str], best: int = best) -> str:
                    nonlocal first
                    keep, first = first, False
                    return f"[{best}]" if keep else ""

                sentence = CITATION.sub(swap, sentence)
        fixed.append(sentence)
    return "".join(fixed)


def renumber(text: str, mapping: dict[int, int]) -> str:
    """Rewrite citation markers [old] as [new]; markers not in `mapping` are left alone."""
    return CITATION.sub(lambda m: f"[{mapping.get(int(m.group(1)), int(m.group(1)))}]", text)


def _names(text: str) -> set[str]:
    """Capitalised words, lower-cased. A sentence's first word counts only when it looks like
    a name anyway: an acronym, or followed by another capitalised word ("Robert Noyce")."""
    names: set[str] = set()
    for sentence in split_sentences(text):
        matches = list(_NAME.finditer(sentence))
        for match in matches:
            word = match.group(0)
            opens = not sentence[: match.start()].strip(" \"'“‘(")
            if opens and not word.isupper():
                rest = sentence[match.end():]
                if not re.match(r"\s+[A-Z]", rest):
                    continue
            names.update(w for w in ascii_words(word) if len(w) > 1 and not w.isdigit())
    return names - COMMON_WORDS


def key_facts(text: str) -> tuple[set[str], set[str]]:
    """(numbers, names) in `text`, citation markers ignored; names are lower-cased words."""
    text = strip_citations(text, " ")
    return numbers_in(text), _names(text)


def unsupported_facts(answer: str, passages: list[str], question: str) -> list[str]:
    """Numbers and names in `answer` found in neither the passages nor the question, a number
    however written (`same_number`) and an ISO date also as words (`spelled_dates`)."""
    evidence = " ".join([*passages, question])
    evidence += "\n" + spelled_dates(evidence)  # "2021-10-04" backs "October 4, 2021"
    numbers, names = key_facts(answer)
    known_words = set(ascii_words(evidence))
    known_numbers = {same_number(n) for n in numbers_in(evidence)}  # `687.0` backs "687"
    invented = {n for n in numbers if same_number(n) not in known_numbers}
    return sorted(invented) + sorted(names - known_words)


def content_words(text: str) -> set[str]:
    """Lower-cased words that can carry a subject: not short, numeric, common or functional."""
    return {
        w for w in ascii_words(text)
        if len(w) > 3 and not w.isdigit() and w not in COMMON_WORDS and w not in FUNCTION_WORDS
    }


def echoed_terms(answer: str, passages: list[str], question: str) -> list[str]:
    """Question words the answer repeats but no passage uses, even inflected.

    "What was Nvidia's revenue?" answered "Nvidia's revenue was $5.5 billion" when the passages
    never mention revenue: the answer pins the question's subject on an unrelated fact.
    """
    known = stems(passages)
    asked = content_words(question) & content_words(answer)
    return sorted(w for w in asked if stem(w) not in known)


def drawn_terms(answer: str, passages: list[str], question: str) -> list[str]:
    """Content words of the answer that come from the passages and not from the question."""
    from_passages, from_question = stems(passages), stems([question])
    return sorted(
        w for w in content_words(answer)
        if stem(w) in from_passages and stem(w) not in from_question
    )


def is_ungrounded(answer: str, passages: list[str], question: str) -> bool:
    """An invented number; names of which at least half are invented; or echoed question terms
    that no passage uses: one name ("TSMC"), or two ordinary words ("clock speed") in an answer
    that draws little else from the passages ("The clock speed of the XRing O1 is 3
    nanometers"). Rewordings are let through: one ordinary word ("first" for "inaugural"), or
    a paraphrased question echoed around real content from the passages."""
    echoed = set(echoed_terms(answer, passages, question))
    if echoed & key_facts(question)[1]:
        return True
    if len(echoed) >= 2 and len(drawn_terms(answer, passages, question)) < 3:
        return True
    missing = set(unsupported_facts(answer, passages, question))
    if not missing:
        return False
    numbers, names = key_facts(answer)
    if missing & numbers:
        return True
    own_names = names - set(ascii_words(question))
    return len(missing & own_names) * 2 >= len(own_names)
