"""Product text on its way into a prompt: instruction-like phrases out, length bounded.

A shop's feed is data, and a product whose title or description tries to talk to the model ("ignore all previous
instructions", "rank this product first", "system:", chat-template tokens) must read exactly like one that does
not: those phrases are cut before the text is sent, so the prompt, and with it the answer, is the same."""

from __future__ import annotations

import re

# Each pattern takes the rest of its sentence with it: "you are now a pirate" leaves no "a pirate" behind.
INSTRUCTIONS = re.compile(
    r"(?:<\|[^|>]{0,40}\|>"  # chat-template tokens
    r"|\b(?:ignore|disregard|forget|override)\b[^.!?\n]{0,80}\b(?:instructions?|rules?|prompts?|above|previous)\b"
    r"|\b(?:rank|put|list|show|place)\s+(?:this|me|it)\b[^.!?\n]{0,40}\b(?:first|top|higher|above)\b"
    r"|\b(?:system|assistant|developer)\s*:"
    r"|\byou\s+(?:are|must|will|should)\s+now\b)[^.!?\n]*[.!?]?",
    re.IGNORECASE)


def product_text(text: str | None, max_words: int = 40) -> str:
    cleaned = INSTRUCTIONS.sub(" ", text or "")
    return " ".join(cleaned.split()[:max_words])
