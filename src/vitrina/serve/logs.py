"""Structured JSON logs (python-json-logger): one object per line, with the search_id where there is one."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

LOGGER = "vitrina.service"


def service_logger() -> logging.Logger:
    logger = logging.getLogger(LOGGER)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter("{asctime}{levelname}{message}", style="{", json_ensure_ascii=False,
                                           rename_fields={"asctime": "time", "levelname": "level"}))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def log(logger: logging.Logger, message: str, **fields: object) -> None:
    logger.info(message, extra=fields)
