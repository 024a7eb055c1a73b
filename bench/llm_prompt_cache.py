"""What the local LLM server's prompt cache (LocalModelSettings.prompt_cache_mb) saves the shopping assistant: the
same three-turn conversation on the generated sample, against the packaged model served with the cache off and on,
alternated over rounds in one process. Each turn asks the model twice (which tool, then the reply); without the
cache the server keeps only its last prompt, so each ask reads its whole prompt again.

    python bench/llm_prompt_cache.py   # writes bench/results/llm-prompt-cache.{json,md}
"""

from __future__ import annotations

import socket
import statistics
import tempfile
import time
from pathlib import Path

from vitrina.catalog.sample import write_sample_catalog
from vitrina.config import LLMSettings, LocalModelSettings, Settings
from vitrina.converse.assistant import ChatMessage, ChatRequest, ShoppingAssistant
from vitrina.engine import Engine
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results
from vitrina.llm.client import ChatClient
from vitrina.llm.local import LocalServer

RESULTS = Path("bench/results")
ROUNDS = 3
SHOPPER = ["I need running shoes for men", "cheaper ones please", "tell me about the first one"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def conversation(engine: Engine, client: ChatClient) -> list[float]:
    """Seconds of each turn; the shopper's messages fixed, the assistant's as it answered."""
    assistant = ShoppingAssistant(client, lambda words, history: engine.search(words, history=history, size=6),
                                  lambda ids: [p for p in map(engine.get, ids) if p], engine.settings.domain)
    messages: list[ChatMessage] = []
    seconds = []
    for text in SHOPPER:
        messages.append(ChatMessage(role="user", content=text))
        started = time.perf_counter()
        events = list(assistant.turn(ChatRequest(messages=messages)))
        seconds.append(time.perf_counter() - started)
        reply = next(e for e in events if e.type == "reply")
        shown = next(e for e in events if e.type == "products").products or []
        messages.append(ChatMessage(role="assistant", content=reply.text or "", products=[p["id"] for p in shown]))
    return seconds


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="llm-prompt-cache-"))
    engine = Engine(Settings(index_path=work / "index", encoder={"cache_path": work / "vectors.sqlite"}))
    engine.ingest(write_sample_catalog(work / "sample.jsonl"), fresh=True)
    turns: dict[str, list[list[float]]] = {"off": [], "on": []}
    for _ in range(ROUNDS):
        for name, megabytes in (("off", 0), ("on", LocalModelSettings().prompt_cache_mb)):
            local = LocalModelSettings(port=free_port(), threads=2, prompt_cache_mb=megabytes)
            with LocalServer(local, "qwen2.5-coder-0.5b", log_path=work / f"server-{name}.log") as server:
                client = ChatClient(LLMSettings(enabled=True, base_url=server.base_url, timeout_seconds=300))
                turns[name].append(conversation(engine, client))  # no answer cache: every ask goes to the model
                client.close()
    engine.close()
    per_turn = {name: [round(statistics.median(r[i] for r in runs), 2) for i in range(len(SHOPPER))]
                for name, runs in turns.items()}
    whole = {name: round(statistics.median(sum(r) for r in runs), 2) for name, runs in turns.items()}
    figures = {"machine": machine(), "model": "qwen2.5-coder-0.5b", "threads": 2, "rounds": ROUNDS,
               "prompt_cache_mb": LocalModelSettings().prompt_cache_mb, "turn_seconds_median": per_turn,
               "conversation_seconds_median": whole, "ratio_on_to_off": round(whole["on"] / whole["off"], 3),
               "runs": turns}
    rows = "\n".join(f"| {i + 1}: {text!r} | {per_turn['off'][i]} | {per_turn['on'][i]} |"
                     for i, text in enumerate(SHOPPER))
    host = figures["machine"]
    text = (f"# The assistant with the local server's prompt cache off and on\n\n{host['cpu']}, {host['cores']} cores; "
            f"{host['when']}; "
            f"qwen2.5-coder-0.5b on 2 threads; {ROUNDS} rounds alternated in one process; medians.\n\n"
            f"| turn | off s | on s |\n|---|---|---|\n{rows}\n| whole conversation | {whole['off']} | {whole['on']} |\n\n"
            f"On/off: **{figures['ratio_on_to_off']}**. Command: `python bench/llm_prompt_cache.py`.\n")
    write_results(RESULTS, "llm-prompt-cache", figures, text)
    print(text)


if __name__ == "__main__":
    main()
