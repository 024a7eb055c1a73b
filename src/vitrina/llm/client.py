"""One client for the OpenAI-compatible chat API (`POST {base_url}/chat/completions`): a local llama.cpp server,
vLLM, Ollama or a hosted API alike.

Structured answers are asked for with a JSON schema (the endpoint constrains its output to it), checked against the
pydantic model on arrival, and dropped if they don't fit: a caller gets a valid object or an LLMError, never a
half-trusted dict. Answers are cached by model and prompt; calls are retried on transient faults and stopped by a
circuit breaker when the endpoint keeps failing; counts, tokens and latency are kept for /metrics.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from vitrina.config import LLMSettings
from vitrina.llm.breaker import CircuitBreaker, CircuitOpen
from vitrina.llm.cache import AnswerCache, answer_key

T = TypeVar("T", bound=BaseModel)
Message = dict[str, str]


class LLMError(RuntimeError):
    """The endpoint could not give a usable answer (down, slow, erroring, or off-schema)."""


class InvalidAnswer(LLMError):
    """The answer did not fit the schema it was asked for."""


class LLMStats:
    """Counters for /metrics, safe across threads."""
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {"calls": 0, "cache_hits": 0, "failures": 0, "invalid": 0, "retries": 0,
                                       "breaker_rejections": 0, "prompt_tokens": 0, "completion_tokens": 0}
        self.seconds: float = 0.0  # summed over calls that went out

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                self.counts[name] += n

    def took(self, seconds: float) -> None:
        with self._lock:
            self.seconds += seconds

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return {**self.counts, "seconds": round(self.seconds, 3)}


@functools.lru_cache(maxsize=256)
def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with every $ref inlined: small grammar compilers (llama.cpp's) and strict modes
    handle a flat schema best. Kept per model class (made once: a catalog's enum schema takes milliseconds)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: inline(v) for k, v in node.items() if k != "title"}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node
    return inline(schema)


class ChatClient:
    def __init__(self, settings: LLMSettings, cache_path: str | Path | None = None,
                 transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self.stats = LLMStats()
        self.breaker = CircuitBreaker(settings.breaker_failures, settings.breaker_reset_seconds)
        path = settings.cache_path or cache_path
        self.cache = AnswerCache(path) if path else None
        headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
        self._http = httpx.Client(base_url=settings.base_url.rstrip("/") + "/", headers=headers,
                                  timeout=settings.timeout_seconds, transport=transport)
        self._held = 0  # foreground holds on: people waiting on a run of calls
        self._released = threading.Condition()

    @contextmanager
    def foreground(self) -> Iterator[None]:
        """Held while a person waits on a run of calls (an assistant's turn): background work that waits in
        `after_foreground` starts after it, so a model that answers one call at a time answers the person first."""
        with self._released:
            self._held += 1
        try:
            yield
        finally:
            with self._released:
                self._held -= 1
                self._released.notify_all()

    def after_foreground(self, most_seconds: float) -> None:
        """Returns once no foreground hold is on, or after `most_seconds` (background work is never starved)."""
        with self._released:
            self._released.wait_for(lambda: self._held == 0, timeout=most_seconds)

    @property
    def model(self) -> str:
        return self.settings.model

    def close(self) -> None:
        self._http.close()
        if self.cache is not None:
            self.cache.close()

    # --- structured answers ---
    def _payload(self, messages: Sequence[Message], answer: type[BaseModel], max_tokens: int | None) -> dict:
        schema = schema_of(answer)
        if self.settings.schema_style == "llama-cpp":
            response_format: dict[str, Any] = {"type": "json_object", "schema": schema}
        else:
            response_format = {"type": "json_schema",
                               "json_schema": {"name": answer.__name__, "schema": schema, "strict": True}}
        return {"messages": list(messages), "temperature": 0.0, "max_tokens": max_tokens or self.settings.max_tokens,
                "response_format": response_format}

    def cached(self, messages: Sequence[Message], answer: type[T], max_tokens: int | None = None) -> T | None:
        """The cached answer to exactly this request, or None; never calls out."""
        if self.cache is None:
            return None
        found = self.cache.get(answer_key(self.model, self._payload(messages, answer, max_tokens)))
        if found is None:
            return None
        self.stats.add(cache_hits=1)
        return answer.model_validate(found)

    def structured(self, messages: Sequence[Message], answer: type[T], max_tokens: int | None = None) -> T:
        """The model's answer as `answer`, from the cache when asked before. Raises LLMError."""
        payload = self._payload(messages, answer, max_tokens)
        key = answer_key(self.model, payload)
        if self.cache is not None and (found := self.cache.get(key)) is not None:
            self.stats.add(cache_hits=1)
            return answer.model_validate(found)
        text = self._content(self.complete(payload))
        try:
            parsed = answer.model_validate_json(text)
        except ValidationError as exc:
            self.stats.add(invalid=1)
            raise InvalidAnswer(f"the LLM's answer does not fit {answer.__name__}: {str(exc)[:300]}") from exc
        if self.cache is not None:
            self.cache.put(key, self.model, parsed.model_dump(mode="json"))
        return parsed

    def text(self, messages: Sequence[Message], max_tokens: int | None = None) -> str:
        """A free-text answer (not cached: conversations rarely repeat word for word)."""
        return self._content(self.complete({"messages": list(messages), "temperature": 0.0,
                                            "max_tokens": max_tokens or self.settings.max_tokens}))

    @staticmethod
    def _content(body: dict[str, Any]) -> str:
        try:
            return str(body["choices"][0]["message"]["content"] or "")
        except (KeyError, IndexError, TypeError) as exc:
            raise LLMError(f"not a chat completion: {json.dumps(body)[:200]}") from exc

    # --- the wire ---
    def complete(self, payload: dict[str, Any]) -> dict[str, Any]:
        """One chat completion, retried on transient faults, behind the circuit breaker."""
        try:
            self.breaker.before()
        except CircuitOpen as exc:
            self.stats.add(breaker_rejections=1)
            raise LLMError(str(exc)) from exc
        if self._http.is_closed:  # the engine closed while a background ask was in hand: a failure, not a crash
            raise LLMError("the LLM client is closed")
        body = {"model": self.model, **payload}
        last: Exception | None = None
        for attempt in range(self.settings.retries + 1):
            if attempt:
                self.stats.add(retries=1)
                time.sleep(min(0.25 * 2 ** (attempt - 1), 2.0))
            started = time.perf_counter()
            try:
                response = self._http.post("chat/completions", json=body)
            except httpx.HTTPError as exc:  # connection refused, timeout, ...
                last = exc
                continue
            except RuntimeError as exc:  # httpx: closed by another thread meanwhile
                raise LLMError(f"the LLM client is closed: {exc}") from exc
            finally:
                self.stats.took(time.perf_counter() - started)
            if response.status_code >= 500 or response.status_code == 429:
                last = LLMError(f"the LLM endpoint answered {response.status_code}: {response.text[:200]}")
                continue
            if response.status_code >= 400:  # our request is wrong: retrying will not help
                self.stats.add(calls=1, failures=1)
                self.breaker.failure()
                raise LLMError(f"the LLM endpoint refused the request ({response.status_code}): {response.text[:300]}")
            result: dict[str, Any] = response.json()
            usage = result.get("usage") or {}
            self.stats.add(calls=1, prompt_tokens=int(usage.get("prompt_tokens") or 0),
                           completion_tokens=int(usage.get("completion_tokens") or 0))
            self.breaker.success()
            return result
        self.stats.add(calls=1, failures=1)
        self.breaker.failure()
        raise LLMError(f"the LLM endpoint at {self.settings.base_url} failed: {last}") from last
