"""Follow-ups that keep their subject: pure functions, no model.

A follow-up ("What did he say about Huawei?", "And in 2019?", "What about the Rhine?") is
rewritten before retrieval so that it names what it refers to. `resolve` decides whether the
question depends on the history at all (a topic switch that names its own subject is used as
asked, with no model call), asks the model's rewrite otherwise, and checks it: a rewrite that
carries none of the earlier turns' names, or brings in a name nobody said, is replaced by a
deterministic one (the pronoun replaced by the subject, the ellipsis filled into the previous
question).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ingest.text import COMPOUND_WORD, PLAIN_WORDS, strip_citations

History = Sequence[tuple[str, str]]
Rewrite = Callable[[str, str], str]  # (history as text, follow-up) -> the model's reply

_POSSESSIVE = re.compile(r"['’]s?$")
_POSSESSIVE_S = re.compile(r"['’]s$")
_PARTICLES = frozenset("of the de von van der du la le al bin".split())
_ROMAN = frozenset("I II III IV V VI VII VIII IX X XI XII".split())
_MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
# Words that make a capitalised span an organisation, place, title or thing, not a person.
_NOT_PERSON = frozenset(
    "inc corp co ltd llc associates university alliance technologies technology company group "
    "river sea lake mountains mountain valley duchy kingdom empire republic province state city "
    "county island islands bay ocean basin lowlands alps forest church abbey army council code "
    "summer project chip system systems foundation society institute association party daily "
    "news times post journal press library software python gorge delta canal bridge castle "
    "executive director chairman chief officer analyst minister secretary manager editor "
    "professor president general".split()
)
_TITLES = frozenset("king queen duke prince princess count earl emperor pope sir saint st "
                    "lord lady".split())
_AUX = (r"(?:is|are|was|were|does|do|did|has|have|had|can|could|will|would|should|may|might|"
        r"must)")
_QUESTION_START = (
    r"(?:what|who|whom|whose|when|where|which|why|how|is|are|was|were|did|does|do|has|have|had|"
    r"can|could|will|would|should|tell|give|name|list)\b")
# "the company", "this river": a reference to an earlier subject by its kind.
_GENERIC = (
    r"company|firm|corporation|business|group|organi[sz]ation|association|alliance|team|river|"
    r"city|town|country|region|province|island|chip|processor|project|product|device|model|"
    r"package|library|module|tool|program|software|book|article|report|document|paper|war|"
    r"battle|king|duke|ruler|leader|founder|author|man|woman|person|people"
)
_DEFINITE = re.compile(rf"\b(?:the|this|that|these|those)\s+({_GENERIC})s?\b", re.IGNORECASE)
_PERSONAL = re.compile(r"\b(?:he|she|him|her|his|hers)\b", re.IGNORECASE)
_THING = re.compile(r"(?<!\bdo )(?<!\bdoing )(?<!\bdone )\b(?:it|its)\b",
                    re.IGNORECASE)  # not the act in "did he do it"
_PLURAL = re.compile(r"\b(?:they|them|their|theirs)\b", re.IGNORECASE)
_BARE_THIS = re.compile(
    r"\b(?:this|that)\b(?=\s*(?:[?.!]|$|\s(?:is|was|be|been|mean|means|happen|happened|"
    r"happens|take|took|start|started|end|ended|cost|costs)\b))", re.IGNORECASE)
_THERE = re.compile(r"(?<!\bis )(?<!\bare )(?<!\bwas )(?<!\bwere )\bthere\b"
                    r"(?!\s+(?:is|are|was|were|be|been|will|would|has|have)\b)", re.IGNORECASE)
# "what about Huawei?", "and in 2019?", "and the Rhine?"; not "and what did he say?"
_ELLIPSIS = re.compile(
    r"^\s*(?:(?:and|but|also|or)\s*,?\s*)?(?:what|how)\s+about\s+"
    r"|^\s*(?:(?:and|but|or)\s*,?\s*)?what\s+of\s+|^\s*same\s+(?:for|with)\s+"
    rf"|^\s*(?:and|but|or)\s*,?\s+(?!{_QUESTION_START})",
    re.IGNORECASE)
_LEADING_AND = re.compile(r"^\s*(?:and|but|also|so)\s*,?\s+", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:1[0-9]|20)\d\d(?:s)?\b")
_PREPOSITION = re.compile(r"^(in|on|at|during|for|about|from|to|with|by|before|after)\s+(.+)$",
                          re.IGNORECASE)
_WH = re.compile(r"^\s*(?:why|when|where|how|who|whom|whose|what|which)\b", re.IGNORECASE)
_IN_WHAT = re.compile(r"^\s*(?:in|on|at|from|to|for|by|since|until)\s+(?:what|which)\b",
                      re.IGNORECASE)


def format_history(history: History, max_chars: int = 400) -> str:
    """Earlier turns as "User: ..." / "Assistant: ..." lines, each answer cut to `max_chars`."""
    lines = []
    for question, answer in history:
        lines.append(f"User: {question.strip()}")
        lines.append(f"Assistant: {answer.strip()[:max_chars]}")
    return "\n".join(lines)


# -- names ----------------------------------------------------------------------------------------
def entities(text: str) -> list[str]:
    """Names in `text`, in order, without repeats: runs of capitalised words (or words with
    an inner capital or digits: "iFlytek", "O1", "910C"), joined by particles ("Charles III of
    West Francia"), without possessive endings; question words and months are not names."""
    found: list[str] = []
    run: list[str] = []
    pending: list[str] = []  # particles inside a run, kept if another name word follows
    text = strip_citations(text, " ")
    end = 0
    for match in COMPOUND_WORD.finditer(text):
        raw = match.group()
        word = _POSSESSIVE.sub("", raw)
        gap, end = text[end:match.start()], match.end()
        if run and gap.strip():  # punctuation between words ends a name
            _close(run, found)
            run, pending = [], []
        if _is_name_word(word) or (run and word in _ROMAN):
            run += pending + [word]
            pending = []
        elif run and word.lower() in _PARTICLES:
            pending.append(word)
            continue
        else:
            _close(run, found)
            run, pending = [], []
        if word != raw:  # "Nvidia's market": the possessive ends the name
            _close(run, found)
            run, pending = [], []
    _close(run, found)
    return list(dict.fromkeys(found))


def _is_name_word(word: str) -> bool:
    if word.lower() in PLAIN_WORDS or word.lower() in _MONTHS:
        return False
    if word.isdigit() or "&" in word or (word.isalpha() and word.isupper() and len(word) <= 2):
        return False  # a number, "R&D", "AI", "US": not a subject to carry over
    return word[0].isupper() or any(c.isupper() for c in word[1:])


def _close(run: list[str], found: list[str]) -> None:
    if run:
        found.append(" ".join(run))


def is_person(name: str) -> bool:
    """A title and a name ("Duke William II"), or two or three capitalised words none of
    which names an organisation, place or office ("Jensen Huang"; not "J.Gold Associates",
    "Executive Director")."""
    words = name.split()
    titled = len(words) >= 2 and words[0].lower() in _TITLES
    if titled:  # "Duke William II of Normandy": the words between the title and "of"
        rest = [w for w in words[1:] if w not in _ROMAN]
        cut = next((i for i, w in enumerate(rest) if w.lower() in _PARTICLES), len(rest))
        words = rest[:cut] or words[1:]
    return (titled or 2 <= len(words) <= 3) and all(
        w.replace("-", "").isalpha() and w[0].isupper() and w.lower() not in _NOT_PERSON
        for w in words)


def _words(text: str) -> str:
    """Lower-case words between spaces, possessive endings dropped, for whole-word search."""
    words = (_POSSESSIVE_S.sub("", w) for w in COMPOUND_WORD.findall(text.lower()))
    return " " + " ".join(words) + " "


def mentions(text: str, name: str) -> bool:
    """`name` or one of its distinctive words in `text` ("Huang" for "Jensen Huang")."""
    haystack = _words(text)
    if _words(name) in haystack:
        return True
    words = [w for w in name.lower().split() if len(w) >= 3 and w not in _PARTICLES
             and w not in _NOT_PERSON and w not in _TITLES]
    return any(f" {w} " in haystack for w in words)


def topic(question: str) -> str | None:
    """What a question is about when it says so up front: "What is mpmath?" -> "mpmath",
    "What does dateutil compute?" -> "dateutil", "What was the Duchy of Normandy?" -> "Duchy
    of Normandy"; None for "What is the longest river in Germany?" (the answer names it)."""
    copula = re.match(r"^\s*(?:what|who)\s+(?:is|are|was|were)\s+(.+?)\s*\??\s*$", question,
                      re.IGNORECASE)
    if copula:
        phrase = copula.group(1)
        article = re.match(r"(?:the|an?)\s+", phrase, re.IGNORECASE)
        names = entities(phrase)
        if names and phrase.find(names[0]) <= (article.end() if article else 0):
            return names[0]
        if article or len(phrase.split()) > 3:
            return None
        return phrase
    acting = re.match(rf"^\s*(?:what|which|how|when|where|why)(?:\s+\w+)?\s+{_AUX}\s+"
                      r"(?:the\s+)?([\w.-]+)", question, re.IGNORECASE)
    if acting and acting.group(1).lower() not in PLAIN_WORDS:
        names = [n for n in entities(question) if n.split()[0] == acting.group(1)]
        return names[0] if names else acting.group(1)
    module = re.search(r"\bthe\s+([\w.-]+)\s+(?:module|package|library|project|program|tool)\b",
                       question, re.IGNORECASE)
    return module.group(1) if module else None


def _named(text: str) -> list[str]:
    """The names in `text` and, for a question, its topic."""
    names = entities(text)
    about = topic(text)
    if about and not any(_words(about) == _words(n) for n in names):
        names.append(about)
    return names


# -- does the question need the history? ---------------------------------------------------------
def _references(question: str) -> list[tuple[re.Match[str], str]]:
    """Pronouns and "the company"-like phrases in the question, in order, with their kind."""
    hits = []
    for pattern, kind in ((_PERSONAL, "person"), (_THING, "thing"), (_PLURAL, "plural"),
                          (_DEFINITE, "definite"), (_BARE_THIS, "thing"), (_THERE, "place")):
        hits += [(m, kind) for m in pattern.finditer(question)]
    return sorted(hits, key=lambda h: h[0].start())


def depends_on_history(question: str, history: History = ()) -> bool:
    """True when the question needs the conversation to be understood: an ellipsis ("and in
    2019?", "what about Huawei?"), a short question that names nothing ("And how many
    ships?", "Why?"), "the company" and the like, or a pronoun whose referent the question
    does not introduce itself first (a name before it that the history does not hold)."""
    if _ELLIPSIS.match(question) or _DEFINITE.search(question):
        return True
    names = entities(question)
    if not names and len(question.split()) <= 4 and (_WH.match(_strip_and(question))
                                                    or _IN_WHAT.match(question)):
        return True
    said = " ".join(f"{q} {a}" for q, a in history)
    for found, _ in _references(question):
        before = [n for n in names if question.find(n) < found.start()]
        if not any(not mentions(said, n) for n in before):
            return True
    return False


def _strip_and(question: str) -> str:
    return _LEADING_AND.sub("", question, count=1)


# -- what does a reference point at? --------------------------------------------------------------
def _wh_noun(question: str) -> str:
    """The noun a "Which company / what chip" question asks for ("" for other questions)."""
    found = re.match(rf"\s*(?:which|what)\s+(?!{_AUX}\b|about\b)(\w+)", question, re.IGNORECASE)
    return found.group(1).lower() if found else ""


def _turns(history: History) -> list[tuple[str, str]]:
    """The turns with each earlier follow-up resolved from the turns before it."""
    turns: list[tuple[str, str]] = []
    for question, answer in history:
        if turns and depends_on_history(question, turns):
            question = rewrite_without_model(question, turns)
        turns.append((question, answer))
    return turns


def subject(history: History, kind: str = "thing", head: str = "") -> str | None:
    """The name a reference of `kind` ("person", "thing", "plural", "place", or "definite"
    with its `head` noun, "the company") most likely points at, from the latest turn that
    names one of that kind. The answer's names come first when the question asked for a name
    that fits the reference ("Who founded Huawei?" for "he", "What chip did Xiaomi unveil?"
    for "it", not for "the company"); the question's own subject first otherwise."""
    fallback = None
    for question, answer in reversed(_turns(history)):
        asked = _named(question)
        told = [e for e in entities(answer)
                if not any(_words(e) == _words(a) for a in asked)]
        about = topic(question)
        asks_who = bool(re.match(r"\s*(?:who|whom)\b", question, re.IGNORECASE))
        wh_noun = _wh_noun(question)
        asks_name = (asks_who and about is None) or bool(wh_noun)
        if kind == "definite":
            fits = bool(head) and wh_noun.startswith(head[:4])
        elif kind == "person":
            fits = asks_who
        else:
            fits = not asks_who
        if asks_name and fits:
            order = told + asked
        else:
            order = ([about] if about else []) + [n for n in asked + told if n != about]
        if not order:
            continue
        if kind == "person":
            if asks_name and fits and told:
                return told[0]  # "Who ...?" is answered by a name, maybe a single one ("Rollo")
            persons = [e for e in order if is_person(e)]
            if persons:
                return persons[0]
        else:
            others = [e for e in order if not is_person(e)]
            plural = [e for e in others if e.endswith("s") and not e.endswith("ss")]
            if kind == "plural" and plural:
                return plural[0]
            if others:
                return others[0]
        fallback = fallback or order[0]
    return fallback


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _replace_references(question: str, history: History) -> str | None:
    """The first pronoun or "the company" of each kind replaced by the subject it refers to."""
    said = " ".join(f"{q} {a}" for q, a in history)
    names = entities(question)
    done: set[str] = set()
    pieces, last = [], 0
    for found, kind in _references(question):
        before = [n for n in names if question.find(n) < found.start()]
        group = "thing" if kind == "definite" else kind  # "the company ... its": one subject
        if group in done or any(not mentions(said, n) for n in before):
            continue  # one of that kind is resolved already, or the question named its own
        head = found.group(1).lower() if kind == "definite" else ""
        name = subject(history, kind, head)
        if name is None:
            continue
        done.add(group)
        word = found.group().lower()
        after = question[found.end():]
        possessive = word in ("his", "its", "their", "theirs", "hers") or (
            word == "her" and re.match(r"\s+[a-z]", after) is not None
            and not re.match(r"\s+(?:about|to|for|in|on|at|with|from|and|or)\b", after))
        replacement = _possessive(name) if possessive else name
        if kind == "place":
            replacement = f"in {name}"
        pieces += [question[last:found.start()], replacement]
        last = found.end()
    return "".join(pieces) + question[last:] if pieces else None


# -- deterministic rewrites -----------------------------------------------------------------------
def _fill_ellipsis(question: str, previous: str) -> str | None:
    """ "And in 2019?" / "What about Huawei?": the previous question with the new slot."""
    marker = _ELLIPSIS.match(question)
    if not marker:
        return None
    slot = question[marker.end():].strip().rstrip("?.! ").strip()
    if not slot:
        return None
    base = previous.strip().rstrip("?.! ")
    year = _YEAR.search(slot)
    if year and _YEAR.search(base):
        return _YEAR.sub(year.group(), base, count=1) + "?"
    phrase = _PREPOSITION.match(slot)
    if phrase:  # "in 2017" replaces the previous question's last "in ..." (not "In what year")
        same = [m for m in re.finditer(rf"\b{phrase.group(1)}\s+(?!{_QUESTION_START})", base,
                                       re.IGNORECASE) if m.start() > 0]
        if same:
            return base[:same[-1].start()] + slot + "?"
        return f"{base} {slot}?"
    new, old = entities(slot), entities(base)
    if new and old and not depends_on_history(slot):
        start = base.find(old[0])
        if base[:start].lower().endswith("the "):
            slot = re.sub(r"^the\s+", "", slot, flags=re.IGNORECASE)
        return base[:start] + slot + base[start + len(old[0]):] + "?"
    return None


def _swap_question_word(question: str, previous: str) -> str | None:
    """ "And how many ships?" after "How many men did he lead?": the new question words put
    in front of the previous question's clause ("how many ships did he lead?")."""
    short = _strip_and(question).strip().rstrip("?.! ")
    if (not short or len(short.split()) > 3 or re.search(rf"\b{_AUX}\b", short, re.IGNORECASE)
            or _references(short) or not (_WH.match(short) or _IN_WHAT.match(short))):
        return None
    clause = re.match(rf"^\s*(?:\w+\s+){{0,4}}?({_AUX}\b.*)$", previous.strip(), re.IGNORECASE)
    if not clause or not _WH.match(previous):
        return None
    return f"{short[0].upper()}{short[1:]} {clause.group(1).rstrip('?.! ')}?"


def rewrite_without_model(question: str, history: History) -> str:
    """A deterministic standalone form of a follow-up: the ellipsis filled into the previous
    question, a bare question word put before the previous question's clause, else the first
    reference replaced by its subject, else the question followed by the subject's name."""
    if not history:
        return question
    previous = _turns(history)[-1][0]
    filled = _fill_ellipsis(question, previous) or _swap_question_word(question, previous)
    if filled:
        return filled
    replaced = _replace_references(question, history)
    marker = _ELLIPSIS.match(question)
    if marker:  # "and its first chip?": the slot, its references resolved, after the question
        slot = (replaced or question)[marker.end():].strip().rstrip("?.! ")
        return f"{previous.strip().rstrip('?.! ')}, and {slot}?"
    if replaced:
        return replaced
    name = subject(history)
    return f"{question.strip()} ({name})" if name else f"{question.strip()} ({previous.strip()})"


# -- the model's rewrite, checked ----------------------------------------------------------------
def clean_rewrite(reply: str, question: str) -> str:
    """The rewritten question in the model's reply ("" when it answered or rambled instead)."""
    line = reply.strip().splitlines()[0].strip() if reply.strip() else ""
    line = re.sub(r"^(standalone|rewritten)?\s*question:\s*", "", line, flags=re.IGNORECASE)
    line = line.strip().strip('"“”').strip()
    if not line or len(line) > 3 * len(question) + 200:
        return ""
    return line


_WH_CLASS = {"what": "what|which", "which": "what|which", "who": "who|whom|whose",
             "whom": "who|whom|whose", "whose": "who|whom|whose", "when": "when|what year",
             "where": "where", "why": "why", "how": "how"}


def rewrite_problem(rewrite: str, question: str, history: History) -> str:
    """Why a model's rewrite of a follow-up cannot be used ("" when it can).

    It is not a question while the follow-up was ("In 1066, William conquered England."); it
    asks something else (the follow-up's question word and the noun it asks for are gone:
    "Which newspaper interviewed him?" -> "Who interviewed Ren Zhengfei?"); it names someone
    else than the subject the deterministic rewrite found ("they" after "Who runs Xiaomi?" is
    Xiaomi, not Lei Jun); it carries none of the earlier turns' names; or it names something
    neither the history nor the question does (the model answered instead of rewriting).
    """
    if question.rstrip().endswith("?") and not rewrite.rstrip().endswith("?"):
        return "not a question"
    asked = re.search(r"\b(what|which|who|whom|whose|when|where|why|how)\b", question,
                      re.IGNORECASE)
    if asked and not re.search(rf"\b(?:{_WH_CLASS[asked.group(1).lower()]})\b", rewrite,
                               re.IGNORECASE):
        return f"drops '{asked.group(1).lower()}'"
    noun = _wh_noun(_strip_and(question))
    if noun and not re.search(rf"\b{re.escape(noun)}", rewrite, re.IGNORECASE):
        return f"drops '{noun}'"
    said = [n for q, a in history for n in _named(q) + entities(a)]
    if not said:
        return ""
    own = rewrite_without_model(question, history)
    found = [n for n in said if mentions(own, n) and not mentions(question, n)]
    if found and not any(mentions(rewrite, n) for n in found):
        return f"names another subject than {found[0]}"
    carried = [n for n in said if not mentions(question, n)]
    if carried and not any(mentions(rewrite, n) for n in carried):
        return "drops the subject"
    context = " ".join([question, *(f"{q} {a}" for q, a in history)])
    invented = [n for n in entities(rewrite) if not mentions(context, n)]
    if invented:
        return f"invents {', '.join(invented)}"
    return ""


def resolve(question: str, history: History, rewrite: Rewrite | None = None) -> str:
    """The question to retrieve and answer with.

    Without history, or for a question that does not depend on it (a topic switch), the
    question as asked: the model is not called. Otherwise the model's rewrite, cleaned, when
    it keeps the subject; else `rewrite_without_model`. `rewrite(history_text, question)`
    calls the condense prompt; None skips the model altogether.
    """
    if not history or not depends_on_history(question, history):
        return question
    if rewrite is not None:
        candidate = clean_rewrite(rewrite(format_history(history), question), question)
        if candidate and not rewrite_problem(candidate, question, history):
            return candidate
    return rewrite_without_model(question, history)
