"""A size as shoppers say it against the labels feeds print: "size 6" is a shoe's "UK6" or "US6" too."""

from __future__ import annotations

import re
from collections.abc import Iterable

_REGIONAL = re.compile(r"^(?:uk|us|eu|euro|in)\s?(\d+(?:\.\d+)?)$")  # lower-cased, as filter fields are


def is_size(asked: Iterable[str], label: str) -> bool:
    """Whether a product's size label is one of the asked sizes, written bare or with its sizing system."""
    regional = _REGIONAL.match(label)
    return any(label == size or (regional is not None and regional.group(1) == size) for size in asked)
