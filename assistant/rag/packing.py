"""Context packing: fit the retrieved passages into a token budget for the answer model.

On a CPU the answer model's first token waits for it to read the whole prompt (at the speed
the README's benchmarks give), so every passage sentence that cannot hold the answer costs
time. Packing keeps the most relevant passage whole and, from the others,
the sentences that share words with the question, until the budget is spent; a passage with
no such sentence is left out. The model then reads less without losing the sentence that
answers, which is usually the one that shares the question's words.
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


def pack(passages: list[Source], question: str, budget: int) -> list[Source]:
    """The passages (best first) cut to `budget` tokens; 0 means no limit.

    The first passage is kept whole if it fits. From each of the others, the sentences sharing
    the most question words are kept, in their original order, while they fit; the text of a cut
    passage is what the model reads, so it is also what the answer is checked against.
    """
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
