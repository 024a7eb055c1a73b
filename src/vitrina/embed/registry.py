"""Encoders by backend name: one table, no import side effects. Another package adds one through the
`vitrina.encoders` entry point group (a callable taking EncoderSettings, returning an Encoder)."""

from __future__ import annotations

from collections.abc import Callable

from vitrina.config import EncoderSettings
from vitrina.embed.encoder import Encoder, OnnxMiniLMEncoder, SentenceTransformerEncoder
from vitrina.embed.static import StaticEncoder
from vitrina.plugins import find

ENCODERS: dict[str, Callable[[EncoderSettings], Encoder]] = {
    "onnx-minilm": lambda s: OnnxMiniLMEncoder(s),
    "sentence-transformers": lambda s: SentenceTransformerEncoder(s),
    "static-minilm": lambda s: StaticEncoder(s),
}


def make_encoder(settings: EncoderSettings) -> Encoder:
    return find(ENCODERS, settings.backend, "vitrina.encoders", "encoder backend")(settings)
