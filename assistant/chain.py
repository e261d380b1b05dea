"""The conversational retrieval chain: condense -> retrieve -> gate -> answer -> verify.

Each model step is an LCEL runnable (prompt | model | parser). Honest refusal is built in at
three points rather than left to the prompt: retrieval relevance (nothing similar enough means
no model call), the model's own "NOT IN DOCUMENTS", and a check that the answer's names and
numbers appear in the retrieved passages.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable

from assistant import grounding
from assistant.injection import neutralise, screen
from assistant.packing import pack
from assistant.retrieval import Retriever, Source
from prompts import load_prompt

History = Sequence[tuple[str, str]]

NO_PASSAGES = "I found nothing in your documents about this, so I can't answer it."
MODEL_REFUSED = "Your documents don't contain the answer to this question."
UNSUPPORTED = (
    "Your documents don't contain the answer to this question. (A draft answer mentioned "
    "{facts}, which the retrieved passages do not contain, so it was withheld.)"
)


@dataclass
class Answer:
    """An answer with its numbered sources: a marker [n] in `text` refers to `sources[n-1]`.

    `sources` holds the passages the model read: the cited ones first, numbered [1], [2]...
    in the order the answer cites them, then the others, most relevant first.
    """

    text: str
    sources: list[Source]
    refused: bool = False
    question: str = ""  # the standalone question actually used for retrieval
    citations: list[int] = field(default_factory=list)
    reason: str = ""  # why it was refused: no-passages | model-refused | unsupported
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def cited_sources(self) -> list[Source]:
        """The sources the answer cites, in citation order."""
        return [self.sources[i - 1] for i in self.citations]


def text_chain(prompt_name: str, llm: BaseChatModel) -> Runnable:
    """prompt | model | text, for one prompt file."""
    return load_prompt(prompt_name) | llm | StrOutputParser()


def format_history(history: History, max_chars: int = 400) -> str:
    lines = []
    for question, answer in history:
        lines.append(f"User: {question.strip()}")
        lines.append(f"Assistant: {answer.strip()[:max_chars]}")
    return "\n".join(lines)


def format_passages(sources: list[Source]) -> str:
    """One line per passage, numbered from 1 in the order given: its line breaks folded, so a
    passage cannot start another passage's line, and its template tokens defanged, so it
    cannot open a chat turn (`injection.neutralise`). (Passages inside `<document>` tags were
    tried: the default model then answered a follow-up with the earlier turn's fact.)"""
    return "\n".join(f"[{i}] {' '.join(neutralise(s.text).split())}"
                     for i, s in enumerate(sources, start=1))


def follow_up_wordings(question: str, history: History) -> list[str]:
    """Another query for a follow-up: the previous question followed by this one.

    The model's rewrite of a follow-up sometimes garbles it; the plain concatenation keeps the
    words the rewrite may drop. Retrieval fuses both (measured in benchmarks/retrieval.py).
    """
    return [f"{history[-1][0]} {question}"] if history else []


class RagChain:
    """Answers questions from a retriever, streaming text, ending with an `Answer`."""

    def __init__(
        self,
        llm: BaseChatModel,
        retriever: BaseRetriever,
        min_relevance: float,
        context_tokens: int = 0,
    ) -> None:
        self.retriever = retriever
        self.min_relevance = min_relevance
        self.context_tokens = context_tokens
        self.condense = text_chain("condense", llm)
        self.answer = text_chain("answer", llm)

    def standalone(self, question: str, history: History) -> str:
        """The follow-up rewritten with the history; the question itself without history."""
        if not history:
            return question
        rewritten = self.condense.invoke(
            {"history": format_history(history), "question": question}
        ).strip()
        line = rewritten.splitlines()[0].strip() if rewritten else ""
        line = re.sub(r"^(standalone|rewritten)?\s*question:\s*", "", line, flags=re.IGNORECASE)
        line = line.strip().strip('"“”').strip()
        if not line or len(line) > 3 * len(question) + 200:
            return question  # the model answered or rambled instead of rewriting
        return line

    def retrieve(
        self, query: str, sources: Sequence[str] | None = None, also: Sequence[str] = ()
    ) -> list[Source]:
        """Passages above the relevance threshold, best first, from `sources` when given;
        `also` holds other wordings of the query whose rankings are fused with its own."""
        if isinstance(self.retriever, Retriever):
            found = self.retriever.search(query, sources=sources, also=also)
        elif sources:
            raise TypeError("source filters need an assistant.retrieval.Retriever")
        else:
            found = [Source.from_document(d) for d in self.retriever.invoke(query)]
        return [s for s in found if s.score >= self.min_relevance]

    def passages(
        self, query: str, sources: Sequence[str] | None = None, also: Sequence[str] = ()
    ) -> list[Source]:
        """The relevant passages, packed into the context budget, in the order the model reads
        and numbers them: best last.

        Small models attend most to what they read last (the 1.5B default answered more
        sample-article questions right this way), and they cite by position.
        """
        found = []
        for source in self.retrieve(query, sources, also):
            text, withheld = screen(source.text)  # a document's text is data, never a command
            if withheld:  # said beside the source, never silent
                source = replace(source, text=text,
                                 metadata={**source.metadata, "withheld": withheld})
            if text.strip():
                found.append(source)
        return pack(found, query, self.context_tokens)[::-1]

    def run(
        self, question: str, history: History = (), sources: Sequence[str] | None = None
    ) -> Iterator[str | Answer]:
        """Yield pieces of answer text as they are generated, then the final `Answer`."""
        started = time.perf_counter()
        timings: dict[str, float] = {}
        query = self.standalone(question, history)
        timings["condense_s"] = time.perf_counter() - started
        passages = self.passages(query, sources, follow_up_wordings(question, history))
        timings["retrieve_s"] = time.perf_counter() - started - timings["condense_s"]
        if not passages:
            yield Answer(NO_PASSAGES, [], True, query, reason="no-passages", timings=timings)
            return

        draft = ""
        released = False  # text is held back while it could still be the refusal sentinel
        for piece in self.answer.stream({"context": format_passages(passages), "question": query}):
            if not draft:
                timings["first_token_s"] = time.perf_counter() - started
            draft += piece
            if released:
                yield piece
            elif not _may_become_sentinel(draft):
                released = True
                yield draft
        timings["total_s"] = time.perf_counter() - started
        yield self.verify(draft, passages, query, timings)

    def verify(
        self, draft: str, sources: list[Source], query: str, timings: dict[str, float]
    ) -> Answer:
        """Turn the model's draft into an Answer, refusing when it is unsupported."""
        text = grounding.strip_invalid_citations(draft.strip(), len(sources))
        by_score = sorted(sources, key=lambda s: s.score, reverse=True)
        if not text or grounding.is_refusal(text):
            return Answer(MODEL_REFUSED, by_score, True, query, reason="model-refused",
                          timings=timings)
        passages = [s.text for s in sources]
        if grounding.is_ungrounded(text, passages, query):
            facts = ", ".join(dict.fromkeys(
                grounding.unsupported_facts(text, passages, query)
                + grounding.echoed_terms(text, passages, query)
            ))
            return Answer(UNSUPPORTED.format(facts=facts), by_score, True, query,
                          reason="unsupported", timings=timings)
        text = grounding.repair_citations(text, passages)
        cited = grounding.citations(text, len(sources))
        if not cited:  # the model forgot its markers: cite the passage that backs it best
            best = grounding.best_passage(text, passages)
            cited = [best]
            text = f"{text} [{best}]"
        # Renumber for the reader: cited passages become [1], [2]... in citation order.
        order = cited + [i for i in range(1, len(sources) + 1) if i not in cited]
        order[len(cited):] = sorted(order[len(cited):], key=lambda i: -sources[i - 1].score)
        text = grounding.renumber(text, {old: new for new, old in enumerate(order, start=1)})
        return Answer(text, [sources[i - 1] for i in order], False, query,
                      citations=list(range(1, len(cited) + 1)), timings=timings)


def _may_become_sentinel(draft: str) -> bool:
    head = draft.strip().upper()[: len(grounding.SENTINEL)]
    return grounding.SENTINEL.startswith(head)

