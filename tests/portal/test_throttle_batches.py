"""The API budget counter: exact for small budgets, counted in batches (≤ 0.1% over) for large ones."""

from __future__ import annotations

import time
import uuid

from portal.api_policy import _batch, fixed_window_wait, throttle_key
from portal.cache import redis_client


def _shared_count(ident: str, window: int) -> int:
    value = redis_client().get(throttle_key("test", ident, int(time.time() // window) * window))
    return int(value or 0)


def test_small_budgets_are_counted_exactly_on_every_request():
    assert _batch(1999) == 1
    ident = uuid.uuid4().hex
    waits = [fixed_window_wait("test", ident, 3, 3600) for _ in range(4)]
    assert waits[:3] == [None, None, None]
    assert waits[3] is not None and 0 < waits[3] <= 3600
    assert _shared_count(ident, 3600) == 4


def test_large_budgets_add_requests_in_batches_and_still_stop_at_the_budget():
    limit = 5_000  # batches of 5
    assert _batch(limit) == 5
    ident = uuid.uuid4().hex
    allowed = sum(fixed_window_wait("test", ident, limit, 3600) is None for _ in range(limit + 20))
    assert limit <= allowed <= limit + _batch(limit)
    assert limit <= _shared_count(ident, 3600) <= limit + 20
    assert _batch(10_000_000) == 100
