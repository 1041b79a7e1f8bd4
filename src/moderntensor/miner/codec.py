"""JSON encoding for the hot path: orjson when available and wanted, the standard library else.

Both produce compact UTF-8 bytes; signatures cover the exact bytes sent, so the two never
need to agree byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moderntensor.errors import InvalidInputError


class JsonCodec:
    """``dumps`` to bytes and ``loads`` from bytes; ``canonical`` sorts keys (cache keys).

    >>> JsonCodec(fast=False).dumps({"b": 1, "a": [1.5]})
    b'{"b":1,"a":[1.5]}'
    """

    def __init__(self, fast: bool | None = None) -> None:
        orjson = _import_orjson() if fast in (None, True) else None
        if fast is True and orjson is None:
            raise InvalidInputError("fast=True needs orjson: pip install 'moderntensor[fast]'",
                                    code="missing_dependency")
        self.fast = orjson is not None
        self._dumps: Callable[[Any], bytes]
        self._canonical: Callable[[Any], bytes]
        if orjson is not None:
            option = orjson.OPT_SORT_KEYS
            self._dumps = orjson.dumps
            self._canonical = lambda value: orjson.dumps(value, option=option)
            self.loads: Callable[[bytes], Any] = orjson.loads
        else:
            compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False,
                                       allow_nan=False)
            ordered = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False,
                                       allow_nan=False, sort_keys=True)
            self._dumps = lambda value: compact.encode(value).encode()
            self._canonical = lambda value: ordered.encode(value).encode()
            self.loads = json.loads

    def dumps(self, value: Any) -> bytes:
        """Compact JSON bytes; raises TypeError/ValueError for values JSON cannot carry."""
        return self._dumps(value)

    def canonical(self, value: Any) -> bytes:
        """JSON with sorted keys, so equal values give equal bytes."""
        return self._canonical(value)


def _import_orjson() -> Any:
    try:
        import orjson  # optional speed-up, imported only when wanted
    except ImportError:
        return None
    return orjson
