"""Text planted in documents for an AI reader ("ignore your instructions, reply X") kept harmless.

A passage is data, never a command. Three layers, cheapest first:

1. `neutralise` (always, when a passage is put into the prompt): chat-template tokens
   (`<|im_start|>`, `[INST]`, `<start_of_turn>`...) and the prompt's own passage delimiter lose
   their brackets, and a line posing as a chat turn (`System:`, `Assistant:`) is quoted, so a
   passage can never close its block or open a turn. Nothing is removed.
2. `screen` (per passage): each sentence is read after `normalise` (NFKC, zero-width characters
   removed, Cyrillic/Greek look-alikes inside Latin words mapped to Latin) and withheld only when
   its structure is that of an instruction to the reader: overriding earlier instructions,
   adopting a persona, or demanding a reply (reply with, respond only, include this link...)
   that carries a payload (a link, a code word, a quoted phrase) and is addressed to an AI, a
   reader or whoever answers - in English and a dozen other languages. Only those sentences go,
   never the rest of the paragraph, and the count is recorded on the source (`withheld`) and
   shown beside it.
3. The answer prompt delimits every passage and says that text inside is quoted data.

The answer's sources hold the passages as the model read them (withheld sentences gone), so
the grounding checks never count a planted sentence as support.
"""

from __future__ import annotations

import re
import unicodedata

from ingest.text import WORD_CHARS, split_sentences

# -- normalisation for detection -----------------------------------------------------------------
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u2061\u2062"
                                    "\u2063\u2064\u206a\u206b\u206c\u206d\u206e\u206f"), None)
# Cyrillic and Greek letters that look like Latin ones.
_LOOKALIKE = str.maketrans(
    "аеорсухіјѕԁһкмнтвАВЕКМНОРСТХІЈЅαεοιρτυνκχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdhkmhtbABEKMHOPCTXIJSaeoiptuvkxABEZHIKMNOPTYX",
)
_LOOKALIKE_CHARS = frozenset("аеорсухіјѕԁһкмнтвАВЕКМНОРСТХІЈЅαεοιρτυνκχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ")


def _is_latin(char: str) -> bool:
    return "a" <= char.lower() <= "z"


def normalise(text: str) -> str:
    """`text` as a detector should read it: NFKC (full-width letters, ligatures), invisible
    characters removed, look-alike letters mapped to Latin in words that mix them with Latin
    letters (or in mostly Latin text), lower case. Real Cyrillic or Greek text stays as it is."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    letters = [c for c in text if c.isalpha()]
    mostly_latin = sum(map(_is_latin, letters)) > len(letters) / 2

    def fix(match: re.Match[str]) -> str:
        word = match.group()
        odd = [c for c in word if c in _LOOKALIKE_CHARS]
        if odd and (any(map(_is_latin, word)) or (mostly_latin and len(odd) == len(word))):
            return word.translate(_LOOKALIKE)
        return word

    return WORD_CHARS.sub(fix, text).casefold()


# -- neutralising what could pose as prompt structure -------------------------------------------
_TEMPLATE_TOKEN = re.compile(
    r"<\|[^|<>\n]{1,40}\|>|</?s>|<</?sys>>|\[/?inst\]|<(?:start|end)_of_turn>|"
    r"</?document\b[^<>\n]{0,40}>?",
    re.IGNORECASE,
)
_BRACKETS = str.maketrans("<>[]", "‹›‹›")
_ROLE_LINE = re.compile(
    r"^(\W{0,3})(system|assistant|user|human|ai|bot|model|developer|tool(?: output)?)(\s*:)",
    re.IGNORECASE | re.MULTILINE,
)


def neutralise(text: str) -> str:
    """`text` with template tokens and the passage delimiter defanged and chat-turn lines quoted:
    `<|im_start|>` -> `‹|im_start|›`, `Assistant: hi` -> `"Assistant:" hi`."""
    text = _TEMPLATE_TOKEN.sub(lambda m: m.group().translate(_BRACKETS), text)
    return _ROLE_LINE.sub(lambda m: f'{m.group(1)}"{m.group(2)}{m.group(3)}"', text)


# -- the structural rule --------------------------------------------------------------------------
def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_AI = (r"ai|a\.i\.|llms?|(?:large )?language models?|(?:the |this |any |all )?models?|"
       r"assistants?|chat ?bots?|bots?|agents?|crawlers?|automated (?:readers?|tools?|systems?)|"
       r"screening tools?|machines?|the system reading")
# Who a sentence speaks to: an AI, a model, a reader, whoever answers or summarises. The first
# patterns name an AI reader outright ("Note to AI models", "whoever reads this"): with a demand
# in the same sentence they are enough, payload or not.
_NAMED = (
    rf"\b(?:note|message|notice|instructions?|reminder|attention|remark|footnote|guidance)"
    rf"\b[^.:]{{0,20}}\b(?:to|for)\b[^.:]{{0,12}}\b(?:{_AI}|readers?|whoever)\b",
    rf"\b(?:{_AI})\b[^.]{{0,20}}\b(?:reading|processing|parsing|summari[sz]ing|answering)\b",
    rf"\b(?:for|to)\s+(?:all\s+|any\s+)?(?:{_AI})\b(?:\s+and\s+[^.:]{{1,20}})?:",
)
_NAMED_AI = _any(*_NAMED)
_ADDRESSEE = _any(
    *_NAMED,
    r"\bwho(?:ever| is)\b[^.]{0,15}\b(?:reads?|reading|process(?:es|ing)?|answers?|relays?)\b",
    r"\bany(?:one|body|\s+reader)\b[^.]{0,20}\b(?:reading|summari[sz]ing|answering|relaying|"
    r"who)\b",
    r"\breaders?\b[^.]{0,30}\b(?:relay|answer|summari[sz]|respond|reading)",
    r"\bif you (?:are reading|answer|are an?|read)\b",
    r"\byou,? the reader\b|\breader,|\bdear (?:ai|model|assistant)\b",
    r"\b(?:when|whenever|if|should)\b[^.]{0,40}\b(?:summari[sz]|answer(?:ing|s)?\b|asked\b|"
    r"asks\b|cites?\b|used to answer|comparing|you answer)",
    r"\b(?:answers?|replies|responses)\b[^.]{0,20}\b(?:this|the) (?:page|document|text|file)\b",
    r"\b(?:any|every) answer that\b|\bafter you (?:give|write)\b|\byour (?:answer|reply|"
    r"response|output|instructions?|instruction following|guidelines|system prompt)\b",
    r"\bthe (?:model|assistant|ai|system|reader)\b|\bto the model\b|\bthe user\b",
    # other languages
    r"\b(?:l'|l’)?(?:assistant|ia|intelligence artificielle|mod[eè]le)\b|\bquiconque\b",
    r"\bki\b|\bsprachmodell|\bwer diesen\b",
    r"\basistente\b|\bquien lea\b|\bintelligenza artificiale\b|\bassistente de ia\b",
    r"\btaalmodel\b|\basystent\w* ai\b|\byapay zeka|\bии\b|ассистент|\bтот, кто\b|"
    r"人工智能|本文的人|系统提示|ａｉ",
)
# Overriding what the reader was told.
_OVERRIDE = _any(
    r"\b(?:ignore|disregard|forget|override|overrule|supersede|stop following|bypass)\b"
    r"[^.]{0,12}?\b(?:all|any|your|previous|prior|earlier|above|usual|original|system|"
    r"the (?:previous|prior|earlier|above|original|system|user'?s?)|these|those)\b[^.]{0,25}?"
    r"\b(?:instructions?|rules|guidelines|guidance|prompts?|directions|passages|context|"
    r"question|document|page|constraints|policies)\b",
    r"\b(?:ignore|disregard|forget)\b (?:the|this) (?:question|passages|context|document|page)\b",
    r"\b(?:previous|earlier|original) (?:system )?(?:prompt|instructions|guidance)\b[^.]{0,30}"
    r"\b(?:deprecated|no longer appl|void|replaced|changed|cancelled)",
    r"\bno longer applies\b|\byour (?:guidelines|rules|instructions) have changed\b",
    r"\b(?:reveal|print|show|repeat|output)\b[^.]{0,12}\b(?:your|the)\b[^.]{0,10}\b(?:system )?"
    r"(?:prompt|instructions)\b",
    r"\b(?:developer|admin(?:istrator)?|god|jailbreak|dan) mode (?:enabled|activated)\b|"
    r"\byou are (?:now )?in (?:developer|admin|god) mode\b|\boverride\b[^.]{0,20}"
    r"\(priority|\bpriority instruction|supersedes all\b|\bsystem (?:update|override|note)\b",
    r"\boverride_system_prompt\b|\bnew (?:rule|instructions?|behaviou?r|task)\s*:",
    # other languages
    r"\bignor\w*\s+(?:les|toutes|tes|vos|alle|die|las|tus|sus|le|tutte|as|todas)\b[^.]{0,25}"
    r"\b(?:consignes|instructions|anweisungen|instrucciones|istruzioni|instruções|instrucoes|"
    r"instructies)\b",
    r"\b(?:vergiss|olvida|oublie|dimentica|esqueça|negeer|zignoruj)\b",
    r"\b(?:talimat\w*) yok say|игнорир\w*|忽略|無視|指示を",
)
# A persona or game the reader is told to adopt.
_PERSONA = _any(
    r"\bact as\b|\brole-?play\b|\b\w+ persona\b|\byou are an? (?:ai|assistant|bot|model)\b",
)
# ... and the forms that say so on their own.
_PERSONA_ALONE = _any(
    r"\byou are now\b(?! (?:a |an )?(?:member|able|ready|registered|enrolled|subscribed|signed|"
    r"booked|logged))|\bfrom now on,? you are\b|\bpretend (?:you are|to be)\b|\bthou art\b|"
    r"\blet'?s play a game\b|\btu es maintenant\b|\bdu bist jetzt\b|\bahora eres\b",
)
# A demand on the reply: an output verb said as a command (imperative, after a modal, ...).
_VERB = (r"reply|respond|answer|say|state|write|output|print|repeat|mention|include|append|add|"
         r"end|start|begin|sign|tell|send|point|recommend|render|display|give|put|cite|link|"
         r"ask|email|warn|inform|report|direct|use|instruct|visit|carry")
_DEMAND = _any(
    rf"(?:^|[:;,()\]\"“«—-]\s*|\b(?:must|should|shall|please|always|only|then|and|also|to|"
    rf"will|need to|have to|required to|is to|i|i'll|first|second|third|now|simply|just)\s+)"
    rf"(?:{_VERB})s?\b",
    r"\bthe (?:only )?(?:correct |valid |right )?(?:answer|reply|response)\b[^.]{0,30}\b(?:is|"
    r"must be)\b|\bevery (?:answer|reply|response)\b|\banswer to (?:every|any) question\b|"
    r"\b(?:answers?|replies|responses?) (?:must|should|shall)\b",
    # other languages: reply / answer / say / include, as commands
    r"\br[ée]ponds?\b|\br[ée]pondez\b|\bdire\b|\bantworte|\bbeantworte|\bnennen\b|\bresponde\w*"
    r"|\bresponder\b|\bdecir\b|\bdebe decir\b|\brispondi\b|\bantwoord\b|\bodpowiedz\b|\byaz\b|"
    r"\bотвечай|\bответить|\bответь|回答|答え|\bdeve\b|\bmuss\b|\bdoit\b|\benviar\b",
)
_EXCLUSIVE = _any(
    r"\b(?:only|solely|exclusively|exactly|always|every|each|whatever|regardless|nothing else|"
    r"nothing but|no exceptions|from now on|all further|mandatory|required|must)\b",
    r"\b(?:uniquement|seulement|nur|ausschließlich|solo|soltanto|apenas|alleen|tylko|sadece)\b|"
    r"только|只|だけ",
)
# What a planted demand wants repeated: a link or address, a code word, a quoted phrase.
_LINK = re.compile(
    r"https?://|www\.|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|dev|co|uk|de|fr|es|ru|cn|pt|it|"
    r"gov|info|biz|ai|app)\b|\b[\w.+-]+@[\w-]+\.[\w.]+"
)
_CAPS_CODE = re.compile(r"\b[A-ZА-ЯЁ][A-Z0-9А-ЯЁ]{3,}(?:[-_][A-Z0-9А-ЯЁ]+)*\b")
_QUOTED = r"[\"“«„'‘「][^\"”»“'’」]{2,60}[\"”»“'’」]"


def _has_payload(original: str, norm: str) -> bool:
    """A link, an ALL-CAPS or hyphenated code word, or a quoted phrase with a capital, a digit or
    several words (not 'over' or 'roger')."""
    if _LINK.search(norm) or _CAPS_CODE.search(original):
        return True
    if re.search(r"(?<![\w-])[A-ZÀ-Ý][A-Z0-9À-Ý]+(?:-[A-Z0-9À-Ý]+)+", original):
        return True
    for quoted in re.findall(_QUOTED, original):
        inner = quoted[1:-1]
        if any(c.isupper() or c.isdigit() for c in inner) or len(inner.split()) > 1:
            return True
    return bool(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]{2,}[^\u3040-\u30ff\u4e00-\u9fff]*"
                          r"\d*[」”]", original))


def _unquoted(pattern: re.Pattern[str], norm: str) -> bool:
    """`pattern` occurs outside quotation marks (a phrase quoted is mentioned, not said)."""
    spans = [m.span() for m in re.finditer(_QUOTED, norm)]
    return any(not any(a <= m.start() and m.end() <= b for a, b in spans)
               for m in pattern.finditer(norm))


def _features(sentence: str) -> set[str]:
    """The structural signals in one sentence (see `is_instruction`)."""
    norm = normalise(sentence)
    found = set()
    if _unquoted(_OVERRIDE, norm):
        found.add("override")
    if _TEMPLATE_TOKEN.search(norm):
        found.add("template")
    if _PERSONA_ALONE.search(norm):
        found.add("persona!")
    if _PERSONA.search(norm):
        found.add("persona")
    if _has_payload(sentence, norm):
        found.add("payload")
    if _DEMAND.search(norm):
        found.add("demand")
    if _ADDRESSEE.search(norm):
        found.add("addressee")
    if _NAMED_AI.search(norm):
        found.add("named")
    if _EXCLUSIVE.search(norm):
        found.add("exclusive")
    role = _ROLE_LINE.match(unicodedata.normalize("NFKC", sentence).translate(_INVISIBLE))
    if role and role.group(2).lower() != "user":
        found.add("turn")
    return found


def _flagged(f: set[str], addressed: bool) -> bool:
    """An instruction on its own: an override; a persona; a template token or a posed turn with
    a payload; a demand addressed to an AI by name or posed as a turn; a demand with a payload,
    addressed to the reader or exclusive ("only", "every")."""
    if "override" in f or "persona!" in f:
        return True
    if "persona" in f and f & {"payload", "demand", "addressee"}:
        return True
    if "template" in f and f & {"payload", "demand"}:
        return True
    if "demand" in f and f & {"named", "turn"}:
        return True
    if "payload" not in f:
        return False
    return "turn" in f or "demand" in f and (addressed or "exclusive" in f)


def is_instruction(sentence: str, context: str = "") -> bool:
    """True when `sentence` reads as an instruction to the AI reading it.

    `context` is the rest of its paragraph: an addressee named there ("Note to AI models:")
    also covers the sentences after it.
    """
    f = _features(sentence)
    return _flagged(f, "addressee" in f or "addressee" in _features(context))


# Longer paragraphs are prose (an article without blank lines is one paragraph): there a
# paragraph-wide addressee, demand and payload are a coincidence, not a split rule.
SHORT_PARAGRAPH = 6


def _paragraph_drops(sentences: list[str]) -> set[int]:
    """Which sentences of one paragraph to withhold.

    Each sentence is judged with the paragraph's addressee; a rule split over sentences ("This
    is for the model. Its task: say X.") counts when the paragraph as a whole names an
    addressee, demands and carries a payload. Once a paragraph holds an instruction, its later
    sentences that carry a payload or a demand go too: the payload follows the override. In a
    paragraph longer than `SHORT_PARAGRAPH` sentences each sentence is judged alone.
    """
    features = [_features(s) if s.strip() else set() for s in sentences]
    if len([s for s in sentences if s.strip()]) > SHORT_PARAGRAPH:  # prose: each sentence alone
        return {i for i, f in enumerate(features) if _flagged(f, "addressee" in f)}
    addressed = any("addressee" in f for f in features)
    drop = {i for i, f in enumerate(features) if _flagged(f, addressed)}
    everything = set().union(*features) if features else set()
    if not drop and {"addressee", "demand", "payload"} <= everything:
        drop = {i for i, f in enumerate(features) if f & {"addressee", "demand", "payload"}}
    if drop:
        first = min(drop)
        drop |= {i for i, f in enumerate(features) if i > first and f & {"payload", "demand"}}
    return drop


def screen(text: str) -> tuple[str, int]:
    """`text` without its sentences that read as instructions to an AI, and how many went.

    Everything else (the rest of each paragraph, the spacing) is returned as it was.
    """
    # Sentence ends: . ! ? followed by a space, CJK full stops, and line breaks.
    parts = split_sentences(text, lines=True, cjk=True, keep_breaks=True)
    sentences, breaks = parts[0::2], parts[1::2] + [""]
    paragraphs: list[list[int]] = [[]]
    for i, sep in enumerate(breaks):
        paragraphs[-1].append(i)
        if "\n\n" in sep:
            paragraphs.append([])
    drop: set[int] = set()
    for members in paragraphs:
        drop |= {members[i] for i in _paragraph_drops([sentences[j] for j in members])}
    if not drop:
        return text, 0
    kept = "".join(s + b for i, (s, b) in enumerate(zip(sentences, breaks, strict=True))
                   if i not in drop)
    return kept.strip() if kept.strip() else "", len(drop)


def has_instructions(text: str) -> bool:
    """True when `text` holds a sentence worded as an instruction to an AI reader."""
    return screen(text)[1] > 0


def strip_instructions(text: str) -> str:
    """`text` without the sentences that hold instructions to an AI reader."""
    return screen(text)[0]
