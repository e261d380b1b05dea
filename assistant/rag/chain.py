"""The conversational retrieval chain: condense -> retrieve -> gate -> answer -> decide.

Each model step is an LCEL runnable (prompt | model | parser). Honest refusal is built in
rather than left to the prompt: retrieval relevance (nothing similar enough means no model
call), then one calibrated answer-or-refuse score over the model's token probabilities and
checks of its draft against the passages (`assistant.rag.decision`); backends without token
probabilities keep the hand-written grounding rules (`assistant.rag.grounding`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Required

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import run_in_executor
from typing_extensions import TypedDict  # pydantic reads only this one on Python 3.11

from assistant.rag import followup, grounding
from assistant.rag.decision import (
    Calibration,
    answer_sentence,
    draft_signals,
    first_top_logprobs,
    retrieval_signals,
    sentinel_mass,
    token_logprobs,
    yes_share,
)
from assistant.rag.injection import neutralise, screen
from assistant.rag.packing import pack
from assistant.rag.retrieval import Retriever, Source
from prompts import load_prompt

History = Sequence[tuple[str, str]]
# Checks a question (and its source filters) before the chain answers it, returning the
# question to answer; the Assistant's raises its errors for an empty question or index.
Validate = Callable[[str, Sequence[str] | None], str]


class ChainInput(TypedDict, total=False):
    """What `RagChain` takes as a Runnable: the question, optionally the earlier (question,
    answer) turns and source filters (globs or paths, as in `Assistant.retrieve`)."""

    question: Required[str]
    history: Sequence[tuple[str, str]]
    sources: Sequence[str] | None
    max_tokens: int | None  # the answer's length limit, instead of the model's own


@dataclass
class Usage:
    """Tokens the model read and wrote for one answer, over all its calls (rewrite, draft,
    check), as llama.cpp and the OpenAI-style backends report them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, message: BaseMessage) -> None:
        counted = getattr(message, "usage_metadata", None) or {}
        self.prompt_tokens += counted.get("input_tokens", 0)
        self.completion_tokens += counted.get("output_tokens", 0)

    def as_dict(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens}

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
    reason: str = ""  # why it was refused: no-passages | model-refused | unsupported | unsure
    timings: dict[str, float] = field(default_factory=dict)
    signals: dict[str, float] = field(default_factory=dict)  # what the decision weighed
    score: float | None = None  # the decision's P(right answer), when it was calibrated
    draft: str = ""  # the model's answer before the decision (kept when it was withheld)
    usage: dict[str, int] = field(default_factory=dict)  # `Usage.as_dict()` of its model calls

    @property
    def cited_sources(self) -> list[Source]:
        """The sources the answer cites, in citation order."""
        return [self.sources[i - 1] for i in self.citations]


def text_chain(prompt_name: str, llm: BaseChatModel) -> Runnable:
    """prompt | model | text, for one prompt file."""
    return load_prompt(prompt_name) | llm | StrOutputParser()


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


UNSURE = "Your documents don't seem to state the answer to this question, so I won't guess."
# The check asked after a draft; its prompt repeats the answer prompt, so llama.cpp reuses the
# cached passages and reads only the draft and this line.
CHECK = "Do the passages state that answer? Reply yes or no."
# The first-token ban that makes the model answer when the decision wants a draft anyway.
NO_SENTINEL = [["NOT", False], [" NOT", False], ["Not", False]]


class RagChain(Runnable[ChainInput, Answer]):
    """Answers questions from a retriever: a LangChain Runnable from `ChainInput` to `Answer`.

    With a `calibration` and a model that reports token probabilities and takes a token ban
    (`reports_logprobs`: llama.cpp), the
    answer-or-refuse decision is one fitted score over signals (`assistant.rag.decision`), refusing
    below `threshold`; otherwise the hand-written grounding rules decide.

    As a Runnable: `invoke`/`ainvoke`/`batch` give the `Answer`; `stream`/`astream` give
    Answers whose `text` grows as the model writes (their `sources` still empty), then the
    final `Answer`, the one `invoke` gives. Callbacks in the config see one chain run with the
    retriever and model runs nested under it. `run` is the plain generator `Assistant.stream`
    reads: text pieces, then the `Answer`. `validate` checks each Runnable input first.
    """

    def __init__(
        self,
        llm: BaseChatModel,
        retriever: BaseRetriever,
        min_relevance: float,
        context_tokens: int = 0,
        calibration: Calibration | None = None,
        threshold: float | None = None,
        validate: Validate | None = None,
    ) -> None:
        self.validate = validate
        self.retriever = retriever
        self.min_relevance = min_relevance
        self.context_tokens = context_tokens
        self.condense = load_prompt("condense") | llm
        self.calibration = calibration if getattr(llm, "reports_logprobs", False) else None
        self.threshold = (threshold if threshold is not None
                          else calibration.threshold if calibration else 0.5)
        prompt = load_prompt("answer")
        self.prompt, self.llm = prompt, llm
        self.check_prompt = load_prompt("sentence_check")

    def drafter(self, max_tokens: int | None = None, forced: bool = False) -> Runnable:
        """The answer prompt | the model, asked for token probabilities when it calibrates,
        `forced` to answer (the sentinel banned), at most `max_tokens` long when given.

        No text parser after the model: closing a `... | StrOutputParser()` stream makes
        LangChain read the model's stream to its end, so a closed answer would not stop it."""
        options: dict[str, Any] = {"max_tokens": max_tokens} if max_tokens else {}
        if self.calibration:
            options.update(logprobs=True, top_logprobs=10)
        if forced:
            options["logit_bias"] = NO_SENTINEL
        return self.prompt | (self.llm.bind(**options) if options else self.llm)

    # -- the Runnable interface: inner runs find the run's config in LangChain's context --------
    def invoke(
        self, input: ChainInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Answer:
        return self._call_with_config(self._answer, input, config, run_type="chain")

    def stream(
        self, input: ChainInput, config: RunnableConfig | None = None, **kwargs: Any | None
    ) -> Generator[Answer, None, None]:
        yield from self._transform_stream_with_config(iter([input]), self._growing, config,
                                                      run_type="chain")

    async def astream(
        self, input: ChainInput, config: RunnableConfig | None = None, **kwargs: Any | None
    ) -> AsyncIterator[Answer]:
        """`stream`, each step run in a worker thread (the model and store calls block)."""
        answers = self.stream(input, config, **kwargs)
        try:
            while (answer := await run_in_executor(config, next, answers, None)) is not None:
                yield answer
        finally:
            answers.close()

    def _answer(self, input: ChainInput) -> Answer:
        *_, answer = self._growing(iter([input]))
        return answer

    def _growing(self, inputs: Iterator[ChainInput]) -> Iterator[Answer]:
        """The Answers `stream` yields, for the last of `inputs`."""
        *_, last = inputs
        text = ""
        for event in self.run(*self._arguments(last)):
            if isinstance(event, Answer):
                yield event
            elif event:
                text += event
                yield Answer(text, [])

    def _arguments(self, input: ChainInput
                   ) -> tuple[str, History, Sequence[str] | None, int | None]:
        if not isinstance(input, Mapping) or not isinstance(input.get("question"), str):
            raise TypeError("RagChain takes {'question': str, 'history': [(question, answer), "
                            f"...], 'sources': [glob, ...]}}, not {input!r}")
        sources = input.get("sources") or None
        question = input["question"]
        if self.validate is not None:
            question = self.validate(question, sources)
        history = [(q, a) for q, a in input.get("history") or ()]
        return question, history, sources, input.get("max_tokens")

    # -- the steps ---------------------------------------------------------------------------------
    def standalone(self, question: str, history: History, usage: Usage | None = None) -> str:
        """The follow-up rewritten with the history, checked (`followup.resolve`): the
        question itself without history or when it names its own subject."""
        counted = usage or Usage()

        def rewrite(history_text: str, question: str) -> str:
            reply = self.condense.invoke({"history": history_text, "question": question})
            counted.add(reply)
            return str(reply.content)

        return followup.resolve(question, history, rewrite)

    def retrieve(
        self, query: str, sources: Sequence[str] | None = None, also: Sequence[str] = ()
    ) -> list[Source]:
        """Passages above the relevance threshold, best first, from `sources` when given;
        `also` holds other wordings of the query whose rankings are fused with its own."""
        options: dict[str, Any] = {}
        if isinstance(self.retriever, Retriever):
            options = {"sources": sources, "also": also}
        elif sources:
            raise TypeError("source filters need an assistant.rag.retrieval.Retriever")
        found = map(Source.from_document, self.retriever.invoke(query, **options))
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
        self, question: str, history: History = (), sources: Sequence[str] | None = None,
        max_tokens: int | None = None,
    ) -> Iterator[str | Answer]:
        """Yield pieces of answer text as they are generated, then the final `Answer`, with
        the tokens its model calls used. Closing the generator stops the model's work."""
        usage = Usage()
        for event in self._run(question, history, sources, max_tokens, usage):
            yield replace(event, usage=usage.as_dict()) if isinstance(event, Answer) else event

    def _run(self, question: str, history: History, sources: Sequence[str] | None,
             max_tokens: int | None, usage: Usage) -> Iterator[str | Answer]:
        started = time.perf_counter()
        timings: dict[str, float] = {}
        query = self.standalone(question, history, usage)
        timings["condense_s"] = time.perf_counter() - started
        passages = self.passages(query, sources, follow_up_wordings(question, history))
        timings["retrieve_s"] = time.perf_counter() - started - timings["condense_s"]
        if not passages:
            timings["total_s"] = time.perf_counter() - started
            yield Answer(NO_PASSAGES, [], True, query, reason="no-passages", timings=timings)
            return
        inputs = {"context": format_passages(passages), "question": query}
        texts = [s.text for s in passages]
        signals = {**retrieval_signals([s.score for s in passages], texts, query),
                   "greedy_refused": 0.0}
        draft = yield from self._draft(self.drafter(max_tokens), inputs, signals, usage,
                                       started, timings)
        if self.calibration and (not draft.strip() or grounding.is_refusal(draft)):
            signals["greedy_refused"] = 1.0
            if self.calibration.redraft(signals, self.threshold):
                forced: dict[str, float] = {}
                draft = yield from self._draft(self.drafter(max_tokens, forced=True), inputs,
                                               forced, usage, started, timings)
                signals.update({k: v for k, v in forced.items() if k != "p_refuse"})
        if self.calibration:
            answer = self.decide(draft, passages, query, timings, signals, inputs, usage)
        else:
            answer = self.verify(draft, passages, query, timings)
        timings["total_s"] = time.perf_counter() - started  # the decision's checks included
        yield answer

    def _draft(self, runnable: Runnable, inputs: dict[str, str], signals: dict[str, float],
               usage: Usage, started: float, timings: dict[str, float]
               ) -> Generator[str, None, str]:
        """Stream the model's draft, holding it back while it could still be the refusal
        sentinel; record the first token's sentinel probability in `signals`."""
        draft = ""
        released = False
        logprobs: list[float] = []
        for chunk in runnable.stream(inputs):
            piece = str(chunk.content)
            usage.add(chunk)
            if not piece:
                continue  # a chunk of usage or progress only
            if not draft:
                timings.setdefault("first_token_s", time.perf_counter() - started)
            if chunk.response_metadata:
                logprobs.extend(token_logprobs(chunk.response_metadata))
                top = first_top_logprobs(chunk.response_metadata)
                if top is not None and "p_refuse" not in signals:
                    signals["p_refuse"] = sentinel_mass(top, grounding.SENTINEL)
            draft += piece
            if released:
                yield piece
            elif not _may_become_sentinel(draft):
                released = True
                yield draft
        if logprobs:  # how sure the model was of the words it wrote
            signals["mean_logprob"] = sum(logprobs) / len(logprobs)
            signals["min_logprob"] = min(logprobs)
        return draft

    def check(self, inputs: dict[str, str], draft: str, usage: Usage | None = None) -> float:
        """The model's P(yes) that the passages state `draft` (one token, prefix cached)."""
        messages = [*self.prompt.format_messages(**inputs), AIMessage(content=draft),
                    HumanMessage(content=CHECK)]
        reply = self.llm.invoke(messages, max_tokens=1, logprobs=True, top_logprobs=10)
        if usage:
            usage.add(reply)
        top = first_top_logprobs(reply.response_metadata)
        return yes_share(top) if top is not None else 0.5

    def sentence_check(self, question: str, sentence: str, usage: Usage | None = None) -> float:
        """The model's P(yes) that `sentence`, alone, answers `question` (one token)."""
        one_token = self.llm.bind(max_tokens=1, logprobs=True, top_logprobs=10)
        reply = (self.check_prompt | one_token).invoke({"sentence": sentence, "question": question})
        if usage:
            usage.add(reply)
        top = first_top_logprobs(reply.response_metadata)
        return yes_share(top) if top is not None else 0.5

    def decide(self, draft: str, sources: list[Source], query: str, timings: dict[str, float],
               signals: dict[str, float], inputs: dict[str, str],
               usage: Usage | None = None) -> Answer:
        """Answer or refuse by the calibrated score over the signals and the draft."""
        assert self.calibration is not None
        text = grounding.strip_invalid_citations(draft.strip(), len(sources))
        by_score = sorted(sources, key=lambda s: s.score, reverse=True)
        if not text or grounding.is_refusal(text):
            return Answer(MODEL_REFUSED, by_score, True, query, reason="model-refused",
                          timings=timings, signals=signals, draft=draft)
        passages = [s.text for s in sources]
        signals.update(draft_signals(text, passages, query))
        if "verify_yes" in self.calibration.weights:
            started = time.perf_counter()
            signals["verify_yes"] = self.check(inputs, draft, usage)
            timings["check_s"] = time.perf_counter() - started
        if ("sentence_yes" in self.calibration.weights and not signals["unsupported"]
                and self.calibration.undecided(signals, self.threshold)):
            started = time.perf_counter()
            sentence = answer_sentence(text, query, passages)
            signals["sentence_yes"] = self.sentence_check(query, sentence, usage)
            timings["sentence_check_s"] = time.perf_counter() - started
        score = self.calibration.bound(signals, self.threshold)
        if signals["unsupported"]:  # a name or number in neither the passages nor the question
            invented = ", ".join(grounding.unsupported_facts(text, passages, query))
            return Answer(UNSUPPORTED.format(facts=invented), by_score, True, query,
                          reason="unsupported", timings=timings, signals=signals, score=score,
                          draft=draft)
        if score < self.threshold:
            return Answer(UNSURE, by_score, True, query, reason="unsure", timings=timings,
                          signals=signals, score=score, draft=draft)
        answer = self.cite(text, sources, query, timings)
        return replace(answer, signals=signals, score=score, draft=draft)

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
        return self.cite(text, sources, query, timings)

    def cite(self, text: str, sources: list[Source], query: str,
             timings: dict[str, float]) -> Answer:
        """The answer with its markers repaired and renumbered in citation order."""
        passages = [s.text for s in sources]
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

