"""POST /v1/{tenant}/chat: the shopping assistant, streamed as server-sent events (one per step of the turn)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from fastapi import APIRouter, HTTPException
from fastapi.responses import StreamingResponse

from vitrina.converse.assistant import ChatRequest, ShoppingAssistant
from vitrina.converse.history import Turn
from vitrina.engine import EmptyIndexError
from vitrina.pipeline import SearchResponse
from vitrina.serve.api import PUBLIC, EngineDep, ServiceDep, clean_query, record_search

router = APIRouter()
CHAT_PAGE = 6


@router.post("/v1/{tenant}/chat", dependencies=PUBLIC, response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {}},
                              "description": "events: tool, products, reply, done (JSON in each `data:` line)"}})
def chat(tenant: str, body: ChatRequest, engine: EngineDep, service: ServiceDep):
    """One turn of the assistant. Products come from the tenant's catalog through its search (logged, so an
    add-to-cart from the chat is attributed to the search that showed the product)."""
    if body.messages[-1].role != "user":
        raise HTTPException(422, "the last message must be the shopper's (role 'user')")
    if engine.count() == 0:
        raise HTTPException(409, f"tenant {tenant!r} has no catalog yet: POST /v1/{tenant}/products first")
    limit = service.settings.max_query_chars

    def search(words: str, history: list[Turn]) -> SearchResponse:
        started = time.perf_counter()
        query = clean_query(words, limit)
        response = engine.search(query, history=history, size=CHAT_PAGE)
        record_search(service, tenant, response, query, started, session_id=body.session_id, size=CHAT_PAGE)
        return response

    def lookup(ids: list[str]) -> list[dict]:
        return [p for p in (engine.get(i) for i in ids) if p is not None]

    assistant = ShoppingAssistant(engine.llm, search, lookup, engine.settings.domain)

    def stream() -> Iterator[str]:
        try:
            for event in assistant.turn(body):
                yield f"data: {event.model_dump_json(exclude_none=True)}\n\n"
        except EmptyIndexError as exc:
            yield f"data: {json.dumps({'type': 'error', 'text': str(exc)})}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})
