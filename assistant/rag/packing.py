"""Context packing: fit the retrieved passages into a token budget for the answer model.

On a CPU the answer model's first token waits for it to read the whole prompt (at the speed
the README's benchmarks give), so every passage sentence that cannot hold the answer costs
time. Packing keeps the most relevant passage whole and, from the others,
the sentences that share words with the question, until the budget is spent; a passage with
no such sentence is left out. The model then reads less without losing the sentence that
answers, which is usually the one that shares the question's words.

A table passage (rows rendered by `ingest.formats.tables`, with `first_row`/`last_row` in its
metadata) is first cut to the rows the question names, when it names some: a small model
handed ten rows of finals answers from the wrong year's row.
"""

from __future__ import annotations

from dataclasses import replace

from assistant.rag.retrieval import Source
from ingest import text as rules

CHARS_PER_TOKEN = 4  # English prose with the Qwen and Llama tokenizers; an estimate is enough


def terms(text: str) -> set[str]:
    """Lower-cased content words, crudely stemmed (a plural's 's' dropped)."""
    return {rules.singular(w) for w in rules.words(text) if w not in rules.STOPWORDS and len(w) > 1}


def sentences(text: str) -> list[str]:
    """The sentences of `text`, cut only before a capital or a digit ("e.g. the" stays)."""
    return rules.sentences(" ".join(text.split()), capital=True)


def tokens(text: str) -> int:
    """Estimated token count."""
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def focus(passage: Source, question: str) -> Source:
    """A table passage cut to its title and the rows that share the most distinguishing
    question words (words in some of its rows but not all: "2014" counts, a column header
    repeated in every row does not); unchanged when no row has one, or when it is no table."""
    meta = passage.metadata
    if "first_row" not in meta or "last_row" not in meta:
        return passage
    lines = passage.text.split("\n")
    count = int(meta["last_row"]) - int(meta["first_row"]) + 1
    if count < 2 or len(lines) < count:
        return passage
    head, rows = lines[:-count], lines[-count:]
    found = [terms(row) for row in rows]
    common = set.intersection(*found)
    wanted = terms(question)
    named = [len((row - common) & wanted) for row in found]
    best = max(named)
    if best == 0 or all(n == best for n in named):
        return passage
    kept = [row for row, n in zip(rows, named, strict=True) if n == best]
    return replace(passage, text="\n".join(head + kept),
                   metadata={**meta, "packed": True, "rows_kept": len(kept)})


def pack(passages: list[Source], question: str, budget: int) -> list[Source]:
    """The passages (best first) cut to `budget` tokens; 0 means no limit.

    Table passages are first cut to the rows the question names (`focus`). The first passage
    is kept whole if it fits. From each of the others, the sentences sharing the most question
    words are kept, in their original order, while they fit; the text of a cut passage is what
    the model reads, so it is also what the answer is checked against.
    """
    passages = [focus(p, question) for p in passages]
    if budget <= 0 or sum(tokens(p.text) for p in passages) <= budget:
        return passages
    wanted = terms(question)
    left = budget
    packed: list[Source] = []
    for rank, passage in enumerate(passages):
        if rank == 0 and tokens(passage.text) <= left:
            packed.append(passage)
            left -= tokens(passage.text)
            continue
        parts = sentences(passage.text)
        overlap = [len(terms(s) & wanted) for s in parts]
        chosen: list[int] = []
        for i in sorted(range(len(parts)), key=lambda i: -overlap[i]):
            if overlap[i] == 0:
                break
            if tokens(parts[i]) + 1 <= left:
                chosen.append(i)
                left -= tokens(parts[i]) + 1
        if chosen:
            text = " ".join(parts[i] for i in sorted(chosen))
            packed.append(replace(passage, text=text,
                                  metadata={**passage.metadata, "packed": True}))
    return packed or passages[:1]
