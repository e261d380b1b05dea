"""`Assistant`: the Python API that the CLI and the chat UI use."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from assistant.backends import registry
from assistant.capacity import Capacity, default_slots
from assistant.errors import EmptyIndexError, EmptyQuestionError
from assistant.rag.chain import Answer, History, RagChain
from assistant.rag.decision import load_calibration
from assistant.rag.retrieval import Retriever, Source
from assistant.settings import Settings
from ingest import DocumentInfo, IngestReport, Store, doctor, ingest_paths, load_embeddings
from ingest.doctor import Checkup
from ingest.pipeline import Progress, check_paths, remove_document
from prompts import load_prompt

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"


class AnswerStream:
    """Iterate for pieces of answer text; afterwards `.answer` holds the final `Answer`.

    The pieces are the model's draft as it is written. The final `.answer.text` is that draft
    checked: citation markers renumbered [1], [2]... to match `.answer.sources`, or, when the
    draft turns out to be unsupported by the documents, a refusal, which also arrives as one
    last piece (and `.answer.refused` is True).

    `close()` stops an answer nobody reads any more: the model stops generating and frees its
    slot.
    """

    def __init__(self, events: Iterator[str | Answer]) -> None:
        self._events = events
        self.answer: Answer | None = None

    def close(self) -> None:
        close = getattr(self._events, "close", None)
        if close is not None:
            close()

    def __iter__(self) -> Iterator[str]:
        streamed = False
        for event in self._events:
            if isinstance(event, Answer):
                self.answer = event
                if event.refused:
                    yield f"\n\n{event.text}" if streamed else event.text
            else:
                streamed = True
                yield event


class Assistant:
    """Question answering over your documents.

    Args:
        settings: configuration; `Settings()` (environment and defaults) when omitted.
        llm: a ready LangChain chat model, overriding `settings.llm` (tests, custom backends).
        embeddings: a ready LangChain embeddings model, overriding `settings.embedding`.
        embedding_id: the name the store records for `embeddings` (default `settings.embedding`).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        llm: BaseChatModel | None = None,
        embeddings: Embeddings | None = None,
        embedding_id: str | None = None,
    ) -> None:
        self.settings = settings or Settings()
        if llm is None:
            registry.parse(self.settings.llm)  # fail fast on an unknown backend name
        self._llm = llm
        self._embeddings = embeddings
        self._embedding_id = embedding_id or self.settings.embedding
        self._store: Store | None = None
        self._chain: RagChain | None = None
        self._capacity: Capacity | None = None

    # -- lazily built parts: listing sources never loads a model ------------------------------
    @property
    def embeddings(self) -> Embeddings:
        if self._embeddings is None:
            self._embeddings = load_embeddings(self.settings.embedding)
        return self._embeddings

    @property
    def store(self) -> Store:
        if self._store is None:
            s = self.settings
            self._store = Store.open(s.data_dir, s.collection, self._embedding_id, s.chroma_url)
        return self._store

    @property
    def llm(self) -> BaseChatModel:
        if self._llm is None:
            s = self.settings
            key = s.openai_api_key.get_secret_value() if s.openai_api_key else None
            self._llm = registry.load_llm(
                s.llm,
                registry.ModelOptions(
                    models_dir=Path(s.data_dir) / "models",
                    max_tokens=s.max_answer_tokens,
                    temperature=s.temperature,
                    n_ctx=s.n_ctx,
                    threads=s.threads,
                    slots=self.capacity.slots,
                    prompt_cache_mb=s.prompt_cache_mb,
                    openai_base_url=s.openai_base_url,
                    openai_api_key=key,
                    ollama_base_url=s.ollama_base_url,
                ),
            )
        return self._llm

    @property
    def capacity(self) -> Capacity:
        """The answer slots and the bounded queue in front of them (`assistant.capacity`),
        which `serve` and the chat UI enter before each answer."""
        if self._capacity is None:
            s = self.settings
            self._capacity = Capacity(s.slots or default_slots(), s.queue_size, s.queue_timeout_s)
        return self._capacity

    def _retriever(self, k: int) -> Retriever:
        s = self.settings
        return Retriever(store=self.store, embeddings=self.embeddings, k=k, mode=s.retrieval,
                         depth=s.fusion_depth, rrf_k=s.rrf_k, lexical_weight=s.lexical_weight,
                         rerank=s.rerank)

    @property
    def chain(self) -> RagChain:
        if self._chain is None:
            s = self.settings
            calibration = load_calibration() if s.decision == "calibrated" else None
            self._chain = RagChain(self.llm, self._retriever(s.k), s.min_relevance,
                                   s.context_tokens, calibration, s.answer_threshold,
                                   validate=self._validate)
        return self._chain

    def as_runnable(self) -> RagChain:
        """The answer chain as a LangChain Runnable, to compose in LCEL pipelines of your own:
        it takes `{"question": str, "history": [(q, a), ...], "sources": [glob, ...]}` (the
        last two optional) and gives an `Answer`, as `ask` does, with `invoke`, `batch`,
        `stream`, `astream` and callbacks (see `RagChain`)."""
        return self.chain

    def as_retriever(self) -> Retriever:
        """The retriever as a LangChain `BaseRetriever`: `invoke(query)` gives the `k` best
        chunks as Documents, their metadata the chunk's plus its `id` and cosine `score`."""
        return self._retriever(self.settings.k)

    def with_settings(self, **changes: object) -> Assistant:
        """A copy answering with some settings changed (model, k, retrieval...), sharing this
        one's store and embeddings, and its answer model when `llm` stays the same; how the
        chat UI switches them without reopening the index."""
        settings = Settings.model_validate({**self.settings.model_dump(), **changes})
        same_llm = settings.llm == self.settings.llm
        other = Assistant(settings, llm=self.llm if same_llm else None,
                          embeddings=self._embeddings, embedding_id=self._embedding_id)
        other._store = self.store
        queue = ("llm", "slots", "queue_size", "queue_timeout_s")
        if all(getattr(settings, f) == getattr(self.settings, f) for f in queue):
            other._capacity = self.capacity  # one model, one set of slots and one queue
        if self._embeddings is None:  # load once, for both
            other._embeddings = self._embeddings = self.embeddings
        return other

    # -- documents ------------------------------------------------------------------------------
    def writing(
        self, wait: bool = True, on_wait: Callable[[str], None] | None = None
    ) -> AbstractContextManager[None]:
        """Hold the knowledge base's write lock for a `with` block, e.g. around saving an
        upload and ingesting it; `ingest`, `remove` and `doctor` inside it take it again
        freely. `wait` and `on_wait` as in `ingest`."""
        return self.store.writing(wait, on_wait)

    def ingest(
        self,
        paths: Iterable[str | Path],
        prune: bool = False,
        on_file: Callable[[str, str], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        include: Sequence[str] | None = None,
        exclude: Sequence[str] | None = None,
        wait: bool = True,
        on_wait: Callable[[str], None] | None = None,
    ) -> IngestReport:
        """Add or update files and folders; unchanged files are kept, bad ones reported.

        Args:
            paths: files and folders (walked recursively; hidden entries skipped).
            prune: also remove documents whose files are gone.
            on_file: called with (path, status) as each file is settled; status is added,
                updated, unchanged or failed.
            on_progress: called with an `ingest.Progress` after each file and written batch.
            include, exclude: globs for the files found in folders, e.g. "*.md", "drafts/*".
            wait: when another process (or thread) is writing to the knowledge base, wait for
                it; False raises `KnowledgeBaseBusyError` at once instead.
            on_wait: called with a line for people ("Waiting for another writer ...") when
                this call has to wait.
        """
        s = self.settings
        paths = check_paths(paths)  # a wrong path fails before any model loads or write happens
        embeddings = self.embeddings  # loaded before the lock: a model load holds no one up
        with self.store.writing(wait, on_wait):
            return ingest_paths(paths, self.store, embeddings, s.chunk_size, s.chunk_overlap,
                                prune=prune, on_file=on_file, on_progress=on_progress,
                                include=include or (), exclude=exclude or (),
                                max_file_mb=s.max_file_mb, follow_symlinks=s.follow_symlinks)

    def remove(
        self, path: str | Path, wait: bool = True, on_wait: Callable[[str], None] | None = None
    ) -> str:
        """Remove one document from the knowledge base (its file may be gone already) and
        return its stored path; `DocumentNotFoundError` if it was never ingested. `wait` and
        `on_wait` as in `ingest`."""
        with self.store.writing(wait, on_wait):
            return remove_document(self.store, path)

    def doctor(
        self, repair: bool = False, wait: bool = True,
        on_wait: Callable[[str], None] | None = None,
    ) -> Checkup:
        """Check the store: chunks Chroma cannot read back (their vectors lost, e.g. to two
        processes that wrote at once before the write lock), incomplete documents, a lexical
        index out of step. Writes nothing unless `repair`.

        With `repair` (under the write lock; `wait`, `on_wait` as in `ingest`): deletes the
        unreadable chunks, brings the lexical index in step, and re-ingests the damaged and
        incomplete documents whose files are still there; `.repair` on the result says what
        was done and what a check found afterwards.
        """
        if not repair:
            return doctor.check(self.store)
        with self.writing(wait, on_wait):
            found = doctor.check(self.store)
            if found.ok:
                return found
            fixed = doctor.repair(self.store, found)
            damaged = sorted({*found.damaged, *found.incomplete})
            files = [s for s in damaged if s and Path(s).is_file()]
            report = self.ingest(files) if files else None
            done = doctor.Repair(len(found.unreadable), fixed, report, doctor.check(self.store),
                                 lost=[s for s in damaged if s not in files])
            return replace(found, repair=done)

    def documents(self) -> list[DocumentInfo]:
        """The ingested documents with their chunk counts and content hashes."""
        return self.store.documents()

    def ingest_sample_if_empty(self) -> IngestReport | None:
        """Ingest the bundled sample corpus when the knowledge base is empty."""
        if self.store.count():
            return None
        return self.ingest([SAMPLE_DIR])

    def warm_up(self) -> None:
        """Load both models now and let the answer model read the fixed start of its prompt
        in each of its slots at once (llama.cpp caches it per slot), so that the first
        questions are as quick as the next ones."""
        self.embeddings.embed_query("warm up")
        messages = load_prompt("answer").invoke({"context": "[1] -", "question": "-"})
        with ThreadPoolExecutor(self.capacity.slots) as pool:  # together: one slot each
            list(pool.map(lambda _: self.llm.invoke(messages, max_tokens=1),
                          range(self.capacity.slots)))

    # -- questions ------------------------------------------------------------------------------
    def _check(self, question: str) -> str:
        question = question.strip()
        if not question:
            raise EmptyQuestionError("The question is empty.", fix="ask a question in words")
        if not self.store.count():
            raise EmptyIndexError(
                "No documents have been ingested yet.",
                fix="run 'assistant ingest PATH' (or 'assistant chat' to load the sample corpus)",
            )
        return question

    def _validate(self, question: str, sources: Sequence[str] | None) -> str:
        """The question stripped, or an error for an empty question or index, or for a source
        filter that matches nothing: before an answer starts, not in the middle of a stream."""
        question = self._check(question)
        if sources:
            self._retriever(0).select(sources)
        return question

    def retrieve(
        self, question: str, k: int | None = None, sources: Sequence[str] | None = None
    ) -> list[Source]:
        """The `k` passages best matching `question`, best first (no relevance cut).

        `sources`: patterns (fnmatch on the full path or the file name, or a path) that restrict
        the search to some documents; a pattern matching none raises `NoMatchingSourceError`.
        """
        question = self._check(question)
        return self._retriever(self.settings.k).search(question, k, sources)

    def stream(
        self, question: str, history: History | None = None, sources: Sequence[str] | None = None,
        max_tokens: int | None = None,
    ) -> AnswerStream:
        """Stream the answer's text; the final `Answer` is on the returned object afterwards.

        `max_tokens` shortens the answer below `Settings.max_answer_tokens` (never beyond)."""
        question = self._validate(question, sources)
        limit = min(max_tokens, self.settings.max_answer_tokens) if max_tokens else None
        return AnswerStream(self.chain.run(question, list(history or []), sources, limit))

    def ask(
        self, question: str, history: History | None = None, sources: Sequence[str] | None = None,
        max_tokens: int | None = None,
    ) -> Answer:
        """Answer `question`, given earlier (question, answer) turns, citing its sources;
        `sources` restricts it to some documents, as in `retrieve`; `max_tokens` as in
        `stream`."""
        stream = self.stream(question, history, sources, max_tokens)
        for _ in stream:
            pass
        assert stream.answer is not None  # run() always ends with an Answer
        return stream.answer
