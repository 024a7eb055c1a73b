"""Every API body is JSON, whatever its Content-Type says (as Algolia and Typesense accept).

`curl -d '{...}'` sends `application/x-www-form-urlencoded`, and FastAPI would then answer 422 "Input should be
a valid dictionary"; a body sent as form data or plain text, or with no type at all, is read as JSON instead.
Multipart uploads keep their type.
"""

from __future__ import annotations

from typing import Any

READ_AS_JSON = (b"", b"application/x-www-form-urlencoded", b"text/plain")


class JsonBody:
    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            headers = [(k, v) for k, v in scope.get("headers") or [] if k != b"content-type"]
            declared = next((v for k, v in scope.get("headers") or [] if k == b"content-type"), b"")
            if declared.split(b";")[0].strip().lower() in READ_AS_JSON:
                scope = {**scope, "headers": [*headers, (b"content-type", b"application/json")]}
        await self.app(scope, receive, send)
