"""The chain as a LangChain Runnable and the retriever as a BaseRetriever, in pipelines of one's
own: invoke, batch, stream, ainvoke, astream and callbacks, with the quoting fake model and
bag-of-words embeddings over the sample corpus."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda

from assistant import Answer, Assistant, EmptyQuestionError, NoMatchingSourceError, Source
from assistant.rag.chain import NO_PASSAGES, RagChain
from ingest.store import chunk_id

README = Path(__file__).resolve().parent.parent / "README.md"
HUANG = "What did Jensen Huang say about the export controls?"
HUANG_A = ("Jensen Huang, CEO of US semiconductor firm Nvidia, said the US government's export "
           'controls on artificial intelligence chips to China were "a failure", at a tech forum '
           "in late May. [1]")
XIAOMI = "How much will Xiaomi invest?"
XIAOMI_A = ("The new chip, a result of over four years of intensive R&D efforts, will position "
            "Xiaomi to compete directly with leading foreign chip designers, though it remains "
            "to be seen how the actual products will perform on handsets, experts said. [1]")
HUAWEI = "What did Huawei unveil?"  # nothing relevant enough: refused before any model call


@pytest.fixture
def assistant(fake_assistant: Assistant, sample_copy: Path) -> Assistant:
    fake_assistant.ingest([sample_copy])
    return fake_assistant


def same(one: Answer, other: Answer) -> bool:
    """The same answer, up to its timings."""
    return (one.text, one.sources, one.refused, one.citations, one.reason, one.question) == (
        other.text, other.sources, other.refused, other.citations, other.reason, other.question)


# -- the chain in a pipeline of one's own -------------------------------------------------------


def test_the_chain_composes_in_an_lcel_pipeline(assistant: Assistant) -> None:
    chain = assistant.as_runnable()
    pipeline = RunnableLambda(lambda q: {"question": q}) | chain | RunnableLambda(lambda a: a.text)

    assert isinstance(chain, RagChain)
    assert pipeline.invoke(HUANG) == HUANG_A
    assert pipeline.batch([HUANG, XIAOMI, HUAWEI]) == [HUANG_A, XIAOMI_A, NO_PASSAGES]
    assert list(pipeline.stream(HUANG)) == [HUANG_A]  # a lambda reads the last Answer only


def test_invoke_gives_what_ask_gives(assistant: Assistant) -> None:
    history = [("Who is Jensen Huang?", "The CEO of Nvidia [1].")]
    for request in ({"question": HUANG}, {"question": f"  {XIAOMI} "},
                    {"question": "And the controls?", "history": history,
                     "sources": ["*.txt"]}):
        answer = assistant.as_runnable().invoke(request)  # type: ignore[arg-type]
        expected = assistant.ask(request["question"], request.get("history"),
                                 request.get("sources"))
        assert same(answer, expected)
    assert assistant.as_runnable().invoke({"question": HUANG}).text == HUANG_A


def test_the_runnable_checks_its_input(assistant: Assistant) -> None:
    chain = assistant.as_runnable()
    with pytest.raises(TypeError) as err:
        chain.invoke(HUANG)  # type: ignore[arg-type]
    assert str(err.value) == (
        "RagChain takes {'question': str, 'history': [(question, answer), ...], "
        f"'sources': [glob, ...]}}, not {HUANG!r}"
    )
    with pytest.raises(EmptyQuestionError):
        chain.invoke({"question": "  "})
    with pytest.raises(NoMatchingSourceError):
        list(chain.stream({"question": HUANG, "sources": ["missing.pdf"]}))


def test_stream_yields_growing_answers_then_the_final_one(assistant: Assistant) -> None:
    *growing, final = assistant.as_runnable().stream({"question": HUANG})

    draft = HUANG_A.replace("[1]", "[3]")  # the model cites passages in the order it read them
    assert [a.text for a in growing] == [draft[:m.end()] for m in re.finditer(r"\S+\s*", draft)]
    assert all(a.sources == [] for a in growing)
    assert same(final, assistant.ask(HUANG)) and final.sources


def test_ainvoke_and_astream(assistant: Assistant) -> None:
    chain = assistant.as_runnable()

    async def run() -> tuple[Answer, list[Answer], list[Answer]]:
        one = await chain.ainvoke({"question": HUANG})
        streamed = [a async for a in chain.astream({"question": HUANG})]
        both = await chain.abatch([{"question": HUANG}, {"question": XIAOMI}])
        return one, streamed, both

    one, streamed, both = asyncio.run(run())
    assert one.text == HUANG_A
    assert [a.text for a in streamed] == [a.text for a in chain.stream({"question": HUANG})]
    assert same(streamed[-1], one)
    assert [a.text for a in both] == [HUANG_A, XIAOMI_A]


def test_astream_events_show_the_inner_runs(assistant: Assistant) -> None:
    async def run() -> list[tuple[str, str]]:
        return [(e["event"], e["name"]) async for e in
                assistant.as_runnable().astream_events({"question": HUANG}, version="v2")]

    events = asyncio.run(run())
    assert (events[0], events[-1]) == (("on_chain_start", "RagChain"), ("on_chain_end", "RagChain"))
    assert ("on_retriever_end", "Retriever") in events
    assert ("on_chat_model_start", "QuotingFakeChat") in events
    assert events.count(("on_chain_stream", "RagChain")) == len(list(
        assistant.as_runnable().stream({"question": HUANG})))


# -- callbacks: one chain run, the retriever and the model nested under it --------------------


class Recorder(BaseCallbackHandler):
    """Records (event, name, run id, parent run id) for the runs a tracer would show."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, UUID, UUID | None]] = []
        self.outputs: list[Any] = []
        self.documents: list[list[Document]] = []

    def _add(self, event: str, name: str, run_id: UUID, parent: UUID | None) -> None:
        self.events.append((event, name, run_id, parent))

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID,
                       parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        self._add("chain_start", kwargs.get("name") or "", run_id, parent_run_id)

    def on_chain_end(self, outputs: Any, *, run_id: UUID,
                     parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        if parent_run_id is None:
            self.outputs.append(outputs)

    def on_retriever_start(self, serialized: Any, query: str, *, run_id: UUID,
                           parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        self._add("retriever_start", kwargs.get("name") or "", run_id, parent_run_id)

    def on_retriever_end(self, documents: Any, *, run_id: UUID,
                         parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        self._add("retriever_end", "", run_id, parent_run_id)
        self.documents.append(list(documents))

    def on_chat_model_start(self, serialized: Any, messages: Any, *, run_id: UUID,
                            parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        self._add("chat_model_start", serialized["id"][-1], run_id, parent_run_id)

    def ancestors(self, run_id: UUID) -> list[UUID]:
        parents = {run: parent for _, _, run, parent in self.events}
        found = []
        while (run := parents.get(run_id)) is not None:
            found.append(run)
            run_id = run
        return found


@pytest.mark.parametrize("call", ["invoke", "stream", "batch"])
def test_callbacks_see_the_retriever_and_the_model_inside_the_chain_run(
    assistant: Assistant, call: str
) -> None:
    recorder = Recorder()
    chain = assistant.as_runnable()
    config: Any = {"callbacks": [recorder]}
    if call == "invoke":
        answer = chain.invoke({"question": HUANG}, config=config)
    elif call == "stream":
        *_, answer = chain.stream({"question": HUANG}, config=config)
    else:
        [answer] = chain.batch([{"question": HUANG}], config=config)

    [(_, name, root, parent)] = [e for e in recorder.events if e[0] == "chain_start" and not e[3]]
    assert (name, parent) == ("RagChain", None)
    kinds = [e[0] for e in recorder.events if e[0] != "chain_start"]
    assert kinds == ["retriever_start", "retriever_end", "chat_model_start"]
    [retriever] = [e for e in recorder.events if e[0] == "retriever_start"]
    [model] = [e for e in recorder.events if e[0] == "chat_model_start"]
    assert retriever[1] == "Retriever" and retriever[3] == root  # a child of the chain run
    assert model[1] == "QuotingFakeChat" and root in recorder.ancestors(model[2])
    assert recorder.outputs == [answer] and answer.text == HUANG_A
    [documents] = recorder.documents
    assert [Source.from_document(d) for d in documents] == assistant.retrieve(HUANG)


# -- the retriever -------------------------------------------------------------------------------


def test_as_retriever_gives_documents_with_our_metadata(
    assistant: Assistant, sample_copy: Path
) -> None:
    docs = assistant.as_retriever().invoke("export controls")

    path = str((sample_copy / "us-chip-export-controls.txt").resolve())
    assert len(docs) == assistant.settings.k == 4
    for doc in docs:
        meta = doc.metadata
        assert meta["source"] == path and meta["file_name"] == "us-chip-export-controls.txt"
        assert doc.id == meta["id"] == chunk_id(path, meta["content_hash"], meta["chunk"])
        assert meta["n_chunks"] == 19 and isinstance(meta["score"], float)
    assert [Source.from_document(d) for d in docs] == assistant.retrieve("export controls")
    scores = [d.metadata["score"] for d in docs]
    assert scores == [s.score for s in assistant.retrieve("export controls")]


def test_the_retriever_takes_k_and_sources_as_invoke_options(assistant: Assistant) -> None:
    retriever = assistant.as_retriever()
    [doc] = retriever.invoke("export controls", k=1, sources=["*.txt"])
    assert doc == retriever.invoke("export controls")[0]
    assert retriever.invoke("export controls", k=0) == []
    with pytest.raises(NoMatchingSourceError):
        retriever.invoke("export controls", sources=["*.pdf"])
    texts = (retriever | RunnableLambda(lambda ds: [d.page_content for d in ds])).invoke(HUANG)
    assert texts == [s.text for s in assistant.retrieve(HUANG)]


# -- the README's example -------------------------------------------------------------------------


def readme_example() -> str:
    section = README.read_text().split("### Use it from LangChain", 1)[1]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)[0]


def test_the_readme_example_runs(assistant: Assistant) -> None:
    code = readme_example()
    *lines, last = code.strip().splitlines()
    assert len(code.strip().splitlines()) == 3
    namespace: dict[str, Any] = {"a": assistant}
    exec("\n".join(lines), namespace)
    assert eval(last.split("#")[0], namespace) == HUANG_A
