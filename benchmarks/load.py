"""Load test of `assistant serve` on loopback: concurrent OpenAI clients, distinct questions.

    python benchmarks/load.py                             # fake model: 1, 2, 4, 8, 32 clients
    python benchmarks/load.py --model small --clients 1 4 --requests 8
    python benchmarks/load.py --model default --compare   # before (1 slot) and after, one table

Every request of a run asks its own question (`sample_questions`: 43 standalone questions on
the sample article from the eval sets), so no answer finds its prompt in llama.cpp's cache from
an earlier request of the run; each run gets a fresh `assistant serve` process on a copy of one
ingested data dir, so no cache carries over between runs either. Each client streams its
questions back to back through the official `openai` client, with the client's own retries off
(`max_retries=0`): a 503 is counted, then the same question is asked again after the server's
`Retry-After`, as the client would do by itself, up to MAX_ATTEMPTS times.

Per client count: answers/s (and its ratio to the first run of the same configuration, the
1-client one by default), p50/p95 seconds to the first text and to the closing chunk (from the
question's first attempt, so 503 back-offs count), errors (anything but a well-formed 503: the
status, OpenAI's error envelope and a `Retry-After` in seconds), 503s, the longest wait of any
request (seconds until its response started: a slot taken, or a 503), and the server's memory:
peak RSS (VmHWM at the end of the run) and RSS sampled during it (start, max, end).

`--compare` runs every client count twice, "before" (one slot, a queue with no practical
bound: the server as it was) and "after" (the default slots and queue, or `--slots N`), and
prints them side by side in one Markdown table. The script exits 1 on any error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openai

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on sys.path; the project's packages must win.
sys.path.insert(0, str(ROOT))

from assistant import Settings  # noqa: E402
from evals.cases import BUILTIN, load_cases  # noqa: E402
from ingest import text  # noqa: E402

BIN = Path(sys.executable).parent
MODELS = {"fake": "fake", "default": "llamacpp:qwen2.5-coder-1.5b",
          "small": "llamacpp:smollm2-135m"}
SAMPLE_SOURCE = "us-chip-export-controls.txt"
CAPACITY_ENV = ("ASSISTANT_SLOTS", "ASSISTANT_QUEUE_SIZE", "ASSISTANT_QUEUE_TIMEOUT_S",
                "ASSISTANT_PROMPT_CACHE_MB")
# The server before issue 14: one answer at a time, everyone else waiting as long as it takes,
# and llama.cpp's own RAM cache of earlier prompts (8 GiB).
BEFORE = {"ASSISTANT_SLOTS": "1", "ASSISTANT_QUEUE_SIZE": "1000",
          "ASSISTANT_QUEUE_TIMEOUT_S": "100000", "ASSISTANT_PROMPT_CACHE_MB": "8192"}
MAX_ATTEMPTS = 20  # per question; one turned away this often is counted as given up
RSS_EVERY_S = 0.5


def sample_questions() -> list[str]:
    """The distinct standalone questions on the sample article in the eval sets, in file order.

    From the golden set, the follow-up set (the opening question of each conversation and the
    topic switches; a follow-up itself needs its history) and the injection set. Unanswerable
    cases are left out: most are refused before the model runs, and those cheap refusals would
    be mixed into the throughput. Two wordings with the same words count once."""
    seen: set[frozenset[str]] = set()
    questions = []
    for name in ("sample_article", "followups", "injection"):
        cases, _ = load_cases(BUILTIN[name][0])
        for case in cases:
            if SAMPLE_SOURCE not in case.sources or case.unanswerable:
                continue
            standalone = [case.history[0][0]] if case.history else []
            if not case.history or case.kind == "switch":
                standalone.append(case.question)
            for question in standalone:
                words = frozenset(text.words(question))
                if words not in seen:
                    seen.add(words)
                    questions.append(question)
    return questions


def plan(clients: list[int], fake: bool, requests: int | None, available: int) -> list[int]:
    """Questions per run, one per client count: `requests` if given, else all of them with the
    fake model and, with a real one, at least 8, two per client up to 16, one per client; never
    fewer than the clients nor more than the distinct questions."""
    counts = []
    for n in clients:
        if n > available:
            raise SystemExit(f"{n} clients need {n} distinct questions; there are {available}: "
                             f"use at most {available} clients")
        wanted = requests or (available if fake else max(8, min(2 * n, 16)))
        counts.append(min(max(wanted, n), available))
    return counts


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100)
    return ordered[int(rank) - 1]


class Malformed(Exception):
    """A reply that breaks the contract: counted as an error."""


def retry_after(status: int, headers: Mapping[str, str], body: bytes) -> int:
    """The seconds a well-formed 503 asks the client to wait; `Malformed` for anything else.

    Well-formed: status 503, `Retry-After` a whole number of seconds (`headers` looked up
    case-insensitively, as httpx's are), and OpenAI's error envelope
    `{"error": {"message", "type", "param", "code"}}` with a message in words."""
    if status != 503:
        raise Malformed(f"HTTP {status}: {body[:200]!r}")
    header = headers.get("retry-after", "")
    if not header.isdigit():
        raise Malformed(f"503 with Retry-After {header!r}, not whole seconds")
    try:
        error = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        raise Malformed(f"503 without OpenAI's error envelope: {body[:200]!r}") from None
    if not isinstance(error, dict) or set(error) != {"message", "type", "param", "code"} \
            or not isinstance(error["message"], str) or not error["message"].strip():
        raise Malformed(f"503 with a malformed error envelope: {body[:200]!r}")
    return int(header)


@dataclass
class Run:
    """One configuration at one client count: what every request did."""

    config: str
    clients: int
    questions: int
    wall_s: float = 0.0
    first_text: list[float] = field(default_factory=list)  # s from the question's first try
    answer: list[float] = field(default_factory=list)  # s to the closing chunk, likewise
    waits: list[float] = field(default_factory=list)  # s until each response started
    busy: int = 0  # well-formed 503s
    gave_up: int = 0  # questions turned away MAX_ATTEMPTS times
    errors: list[str] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)  # the server's RSS, sampled
    peak_kb: int = 0  # the server's VmHWM at the end of the run (or a higher sample)
    load_avg: float = 0.0  # the machine's 1-minute load average at the end: others' work shows
    startup_s: float = 0.0  # the server's start (models loaded, prompt start read), not timed
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def rate(self) -> float:
        return len(self.answer) / self.wall_s if self.wall_s else float("nan")

    def note(self, **values: Any) -> None:
        """Append to the lists named, under the run's lock (clients are threads)."""
        with self.lock:
            for name, value in values.items():
                getattr(self, name).append(value)


def stream_answer(client: openai.OpenAI, question: str, started: float,
                  run: Run) -> tuple[float, float] | int:
    """One attempt: (s to the first text, s to the closing chunk), or a 503's Retry-After."""
    sent = time.perf_counter()
    try:
        raw = client.chat.completions.with_raw_response.create(
            model="docs-assistant", messages=[{"role": "user", "content": question}],
            stream=True)
    except openai.APIStatusError as exc:
        run.note(waits=time.perf_counter() - sent)
        return retry_after(exc.status_code, exc.response.headers, exc.response.content)
    run.note(waits=time.perf_counter() - sent)
    first = closed = None
    with raw.parse() as stream:
        for chunk in stream:
            choice = chunk.choices[0]
            if first is None and choice.delta.content:
                first = time.perf_counter() - started
            if choice.finish_reason == "stop" and "sources" in (chunk.model_extra or {}):
                closed = time.perf_counter() - started
    if closed is None:
        raise Malformed("the stream ended without its closing chunk")
    return (first if first is not None else closed), closed


def ask(client: openai.OpenAI, question: str, run: Run,
        sleep: Callable[[float], None] = time.sleep) -> None:
    """Ask until answered: after a well-formed 503 wait its Retry-After and ask again."""
    started = time.perf_counter()
    try:
        for _ in range(MAX_ATTEMPTS):
            got = stream_answer(client, question, started, run)
            if isinstance(got, tuple):
                run.note(first_text=got[0], answer=got[1])
                return
            with run.lock:
                run.busy += 1
            sleep(got)
        with run.lock:
            run.gave_up += 1
    except Exception as exc:  # counted and shown, never hidden
        run.note(errors=f"{type(exc).__name__}: {exc}")


def load(client: openai.OpenAI, run: Run, questions: list[str]) -> None:
    """`run.clients` clients, each asking its next question as soon as it has an answer."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=run.clients) as pool:
        list(pool.map(lambda q: ask(client, q, run), questions[:run.questions]))
    run.wall_s = time.perf_counter() - started
    run.load_avg = os.getloadavg()[0]


def proc_status_kb(pid: int, key: str) -> int:
    """A `kB` line of /proc/<pid>/status (VmRSS, VmHWM); 0 once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) if found else 0


@contextmanager
def sampling_rss(pid: int, run: Run) -> Iterator[None]:
    """Sample the server's RSS while the block runs; its VmHWM when it ends."""
    done = threading.Event()

    def sample() -> None:
        while True:
            run.rss_kb.append(proc_status_kb(pid, "VmRSS"))
            if done.wait(RSS_EVERY_S):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield
    finally:
        done.set()
        sampler.join()
        run.rss_kb.append(proc_status_kb(pid, "VmRSS"))
        # VmHWM lags the RSS counters a little (the kernel syncs them lazily)
        run.peak_kb = max(proc_status_kb(pid, "VmHWM"), *run.rss_kb)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(data_dir: Path, llm: str, capacity: dict[str, str]) -> dict[str, str]:
    """The environment of a server: ours, its data dir and model, and only `capacity`'s
    slots and queue settings (inherited ones are dropped, so "after" means the defaults)."""
    env = {k: v for k, v in os.environ.items() if k not in CAPACITY_ENV}
    return {**env, **capacity, "ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_LLM": llm,
            "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}


def ingest_once(where: Path, models_dir: Path, llm: str) -> Path:
    """The sample article ingested (real MiniLM embeddings) into a data dir that every run
    copies; `models` links to the models dir, where the answer model is assembled once."""
    data_dir = where / "ingested"
    data_dir.mkdir(parents=True)
    models_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "models").symlink_to(models_dir.resolve())
    subprocess.run([str(BIN / "assistant"), "ingest", "-q", str(ROOT / "data" / "sample")],
                   env=server_env(data_dir, llm, {}), cwd=where, check=True,
                   stdout=subprocess.DEVNULL)
    return data_dir


@contextmanager
def serving(ingested: Path, llm: str, capacity: dict[str, str]) -> Iterator[tuple[str, int]]:
    """A fresh `assistant serve` on a copy of the ingested data dir: (its URL, its pid)."""
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "kb"
        shutil.copytree(ingested, data_dir, symlinks=True)
        port, log = free_port(), Path(tmp) / "serve.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(BIN / "assistant"), "serve", "--port", str(port)],
                env=server_env(data_dir, llm, capacity), cwd=tmp, stdout=out,
                stderr=subprocess.STDOUT)
        try:
            wait_until_up(proc, f"http://127.0.0.1:{port}", log)
            yield f"http://127.0.0.1:{port}", proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_until_up(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"assistant serve exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("assistant serve did not start within 600 s")


def measure(ingested: Path, llm: str, config: str, capacity: dict[str, str], clients: int,
            questions: list[str]) -> Run:
    run = Run(config, clients, len(questions))
    started = time.perf_counter()
    with serving(ingested, llm, capacity) as (url, pid):
        run.startup_s = time.perf_counter() - started
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0,
                               timeout=3600)
        with sampling_rss(pid, run):
            load(client, run, questions)
    return run


# -- the table ---------------------------------------------------------------------------------
def cells(run: Run, base: Run) -> list[str]:
    """One run's cells: answers/s (x the base run), first text and answer p50 / p95, errors /
    503s, longest wait, peak RSS, RSS sampled (start -> max -> end)."""
    mb = [kb / 1024 for kb in run.rss_kb if kb] or [float("nan")]
    errors = f"{len(run.errors)} / {run.busy}" + (f" ({run.gave_up} gave up)" if run.gave_up
                                                   else "")
    return [
        f"{run.rate:.3g} ({run.rate / base.rate:.2f}×)",
        f"{percentile(run.first_text, 50):.2f} / {percentile(run.first_text, 95):.2f}",
        f"{percentile(run.answer, 50):.2f} / {percentile(run.answer, 95):.2f}",
        errors,
        f"{max(run.waits, default=float('nan')):.2f}",
        f"{run.peak_kb / 1024:.0f}",
        f"{mb[0]:.0f} → {max(mb):.0f} → {mb[-1]:.0f}",
    ]


METRICS = ["answers/s (× {base} client{s})", "first text p50 / p95 s", "answer p50 / p95 s",
           "errors / 503s", "longest wait s", "peak RSS MB", "RSS MB start → max → end"]


def table(runs: list[Run], configs: list[str]) -> list[str]:
    """Markdown lines: a row per client count, each metric with a column per configuration
    side by side, and the after/before answers/s ratio when there are two."""
    first = {c: next(r for r in runs if r.config == c) for c in configs}
    base = first[configs[0]].clients
    heads = [m.format(base=base, s="s" if base > 1 else "") for m in METRICS]
    columns = [f"{h}, {c}" if len(configs) > 1 else h for h in heads for c in configs]
    if len(configs) == 2:
        columns.append(f"answers/s {configs[1]} ÷ {configs[0]}")
    lines = ["| clients | questions | " + " | ".join(columns) + " |",
             "| ---: | ---: | " + " | ".join("---:" for _ in columns) + " |"]
    for clients in dict.fromkeys(r.clients for r in runs):
        row = {r.config: r for r in runs if r.clients == clients}
        per = [cells(row[c], first[c]) for c in configs]
        values = [per[i][m] for m in range(len(METRICS)) for i in range(len(configs))]
        if len(configs) == 2:
            values.append(f"{row[configs[1]].rate / row[configs[0]].rate:.2f}×")
        lines.append(f"| {clients} | {row[configs[0]].questions} | " + " | ".join(values) + " |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fake",
                        help=f"{', '.join(MODELS)}, or any ASSISTANT_LLM name")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4, 8, 32])
    parser.add_argument("--requests", type=int,
                        help="questions per run (default: all 43 with the fake model; with a "
                        "real one at least 8, two per client up to 16, one per client)")
    parser.add_argument("--compare", action="store_true",
                        help="run each client count twice: before (1 slot, unbounded queue) "
                        "and after (the defaults, or --slots)")
    parser.add_argument("--slots", type=int, help="ASSISTANT_SLOTS of the 'after' server")
    parser.add_argument("--models-dir", type=Path,
                        help="where the answer model is assembled (default: the data dir's)")
    args = parser.parse_args()
    llm = MODELS.get(args.model, args.model)
    questions = sample_questions()
    counts = plan(args.clients, llm == "fake", args.requests, len(questions))
    after = {"ASSISTANT_SLOTS": str(args.slots)} if args.slots else {}
    configs = {"before": BEFORE, "after": after} if args.compare else {"after": after}
    print(f"plan: model {llm}; {', '.join(configs)}; clients {args.clients}, questions per "
          f"run {counts} (of {len(questions)} distinct); {len(configs) * len(counts)} server "
          f"runs, {len(configs) * sum(counts)} questions in all", flush=True)

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        ingested = ingest_once(Path(tmp), args.models_dir or Settings().data_dir / "models", llm)
        for clients, count in zip(args.clients, counts, strict=True):
            for config, capacity in configs.items():  # interleaved: drifting load hits both
                run = measure(ingested, llm, config, capacity, clients, questions[:count])
                print(f"  {config}, {clients} clients: {len(run.answer)}/{count} answered in "
                      f"{run.wall_s:.1f} s (server start {run.startup_s:.0f} s), load avg "
                      f"{run.load_avg:.1f}", flush=True)
                runs.append(run)

    before = f"before = {BEFORE}, " if args.compare else ""
    print(f"\nassistant serve, model {llm}, {os.cpu_count()} CPU cores, streamed requests; "
          f"{before}after = slots {args.slots or 'default'}, queue and wait defaults\n")
    print("\n".join(table(runs, list(configs))))
    errors = [e for r in runs for e in r.errors]
    for error in sorted(set(errors)):
        print(f"error ({errors.count(error)}x): {error}", file=sys.stderr)
    return 1 if errors or any(r.gave_up for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
