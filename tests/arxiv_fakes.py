"""Shared by the arXiv tests: the recorded API responses and a clock that never waits."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "arxiv"
INDEX: dict[str, dict[str, Any]] = json.loads((FIXTURES / "index.json").read_text())
# index.json also lists RSS recordings; only the API ones were copied into this repo.
API_FIXTURES = sorted(name for name in INDEX if name.startswith("api-"))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def recorded_status(name: str) -> int:
    status: int = INDEX[name]["http_status"]
    return status


class FakeClock:
    """Monotonic time that only moves when the client sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[float], None] | None = None  # e.g. to interrupt a test run

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(seconds)
