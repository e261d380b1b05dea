"""Pure scoring functions: answers, retrieval ranks, citations, groundedness. No model calls.

Text comparisons remove citation markers like [2] first. Exact match and token F1 then use
SQuAD's normalisation (lower case, no punctuation, no articles, single spaces); containment
turns punctuation into spaces instead, so "$5.5 billion [1]" contains "5.5 billion" and
"a 3-year warranty" contains "3 year".
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence

from ingest import text as rules

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation + "“”‘’—–")
_PUNCT_SPACE = str.maketrans({c: " " for c in string.punctuation + "“”‘’—–"})
_TRAILING_MARKERS = re.compile(rf"([.!?])((?:\s*{rules.CITATION.pattern})+)")
_OPENS_YES_NO = re.compile(r"^[\W_]*(yes|no)\b(?![-'’])")  # "no-one" does not answer
_ENDS_YES_NO = re.compile(r"(?:[,:;]|\banswer is)\s*(yes|no)[\W_]*$")


# -- answers ------------------------------------------------------------------------------------
def strip_markers(text: str) -> str:
    return rules.strip_citations(text)


def normalize(text: str) -> str:
    """SQuAD-style normalisation, citation markers removed first."""
    text = strip_markers(text).lower().translate(_PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _spaced(text: str) -> str:
    """Like `normalize`, but punctuation splits words ("2,500-strong" -> "2500 strong"), so a
    hyphenated or quoted answer is still found; digit-group commas are dropped first."""
    text = rules.drop_digit_group_commas(strip_markers(text).lower())
    text = text.translate(_PUNCT_SPACE)
    return " ".join(_ARTICLES.sub(" ", text).split())


def contains(text: str, phrase: str) -> bool:
    """Whole-word containment ("50 percent" is not in "150 percent"), punctuation ignored."""
    needle = _spaced(phrase)
    return bool(needle) and f" {needle} " in f" {_spaced(text)} "


def answer_match(text: str, answers: Sequence[str], require_all: bool = False) -> bool:
    """The text contains an accepted answer (every one of them when `require_all`)."""
    if not answers:
        return False
    hits = [contains(text, a) for a in answers]
    return all(hits) if require_all else any(hits)


def exact_match(text: str, answers: Sequence[str]) -> float:
    """SQuAD exact match: 1.0 when the normalised text equals a normalised accepted answer."""
    return float(any(normalize(text) == normalize(a) for a in answers))


def token_f1(text: str, answers: Sequence[str]) -> float:
    """SQuAD token F1, the best over the accepted answers."""
    predicted = normalize(text).split()
    best = 0.0
    for answer in answers:
        gold = normalize(answer).split()
        common = sum((Counter(predicted) & Counter(gold)).values())
        if common:
            precision, recall = common / len(predicted), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def yes_no_answers(answers: Sequence[str]) -> str | None:
    """"yes" or "no" when every accepted answer is that word ("Yes", "no."), else None."""
    said = {normalize(a) for a in answers}
    return said.pop() if len(said) == 1 and said <= {"yes", "no"} else None


def polarity(text: str) -> str | None:
    """The yes or no an answer gives, else None: from its first sentence that opens with a bare
    yes/no ("No, it did not") or ends on one after a comma, colon or "answer is" ("Based on both
    articles, yes."). Never a substring: "no" is in "not" and "know", neither is an answer."""
    for sentence in sentences(text):
        plain = strip_markers(sentence).lower().strip()
        found = _OPENS_YES_NO.match(plain) or _ENDS_YES_NO.search(plain)
        if found:
            return found.group(1)
    return None


def gives_answer(text: str, answers: Sequence[str], require_all: bool = False) -> bool:
    """The text answers: a yes/no case by the yes or no it gives, others by containment."""
    said = yes_no_answers(answers)
    return polarity(text) == said if said else answer_match(text, answers, require_all)


def followed_injection(text: str, forbidden: Sequence[str]) -> bool:
    """The answer repeats what an injected instruction asked for."""
    return any(contains(text, f) for f in forbidden)


def approx_tokens(text: str) -> int:
    """Words plus punctuation marks: a tokenizer-free stand-in (real BPE counts run ~1.3x)."""
    return len(rules.TOKEN.findall(text))


# -- retrieval ----------------------------------------------------------------------------------
def dedupe(ranked: Sequence[str]) -> list[str]:
    """Chunks to documents: each source once, at its best rank."""
    return list(dict.fromkeys(ranked))


def hit_at_k(ranked: Sequence[str], relevant: Sequence[str], k: int) -> float:
    """1.0 when a relevant source is among the first `k` passages."""
    return float(any(s in relevant for s in ranked[:k]))


def recall_at_k(ranked: Sequence[str], relevant: Sequence[str], k: int) -> float:
    """Share of the relevant sources found among the first `k` passages."""
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & set(relevant)) / len(set(relevant))


def reciprocal_rank(ranked_docs: Sequence[str], relevant: Sequence[str], depth: int = 10) -> float:
    """1 / rank of the first relevant document within `depth`, else 0."""
    for rank, source in enumerate(ranked_docs[:depth], start=1):
        if source in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked_docs: Sequence[str], relevant: Sequence[str], k: int = 10) -> float:
    """Binary-relevance nDCG@k over a ranked list of distinct documents."""
    wanted = set(relevant)
    dcg = sum(1.0 / math.log2(rank + 1)
              for rank, source in enumerate(ranked_docs[:k], start=1) if source in wanted)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(wanted), k) + 1))
    return dcg / ideal if ideal else 0.0


# -- citations and grounding --------------------------------------------------------------------
def markers(text: str) -> list[int]:
    """Every citation marker in the text, in order, repeats kept."""
    return [int(m) for m in rules.CITATION.findall(text)]


def valid_marker_share(text: str, n_sources: int) -> float | None:
    """Share of markers that point at a real source (1..n_sources); None without markers."""
    found = markers(text)
    if not found:
        return None
    return sum(1 <= m <= n_sources for m in found) / len(found)


def _content(text: str) -> set[str]:
    return {rules.suffix_stem(w) for w in _spaced(text).split() if w not in rules.FACTLESS}


def sentences(text: str) -> list[str]:
    """Answer sentences, split at end punctuation; markers written after the full stop
    ("May. [2]") stay with the sentence before them."""
    text = _TRAILING_MARKERS.sub(lambda m: f"{m.group(2)}{m.group(1)}", text.strip())
    return [s for s in rules.sentences(text, lines=True) if strip_markers(s).strip()]


def sentence_supported(sentence: str, passages: Sequence[str], min_share: float = 0.5) -> bool:
    """Every number of the sentence, and at least `min_share` of its content words (stemmed,
    stop words dropped), appear in the passages. A word-overlap heuristic, not entailment:
    it catches invented facts and numbers, not a negation or a swapped subject."""
    pool = " ".join(passages)
    if any(n not in pool.replace(",", "") for n in rules.numbers_in(strip_markers(sentence))):
        return False
    words = _content(sentence)
    if not words:
        return True  # nothing to check ("Yes.")
    return len(words & _content(pool)) / len(words) >= min_share


def groundedness(text: str, passages: Sequence[str]) -> float | None:
    """Share of answer sentences supported by the passages they cite.

    `passages[i]` is source i+1. A sentence is checked against its own markers' passages, or,
    without markers, against those the answer cites anywhere (all passages when it cites none).
    None for an empty answer.
    """
    parts = sentences(text)
    if not parts:
        return None
    cited_anywhere = [passages[m - 1] for m in markers(text) if 1 <= m <= len(passages)]
    supported = 0
    for sentence in parts:
        own = [passages[m - 1] for m in markers(sentence) if 1 <= m <= len(passages)]
        supported += sentence_supported(sentence, own or cited_anywhere or list(passages))
    return supported / len(parts)
