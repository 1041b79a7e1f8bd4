"""Opt-in LRU of answers, keyed by a hash of (task, input, params)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class ResponseCache:
    """Keeps the ``size`` most recently used outputs; ``size=0`` keeps none.

    >>> cache = ResponseCache(1)
    >>> cache.put(b"k", {"output": 1}); cache.get(b"k")
    {'output': 1}
    """

    def __init__(self, size: int, *, on_hit: Callable[[], None] | None = None) -> None:
        self.size = size
        self._on_hit = on_hit
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[bytes, Any] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def key(canonical_request: bytes) -> bytes:
        """A fixed-size key: the cache holds hashes, not whole inputs."""
        return hashlib.sha256(canonical_request).digest()

    def get(self, key: bytes) -> Any | None:
        value = self._entries.get(key)
        if value is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        if self._on_hit is not None:
            self._on_hit()
        return value

    def put(self, key: bytes, value: Any) -> None:
        if self.size <= 0:
            return
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
