"""Per-client token buckets for anonymous (public) verification.

A bucket holds up to ``burst`` tokens and refills at ``rate_per_s``; each anonymous request
takes one. An empty bucket answers 429 with ``Retry-After`` = the seconds until the next token.

Two stores: in process (one API process; the default) and Redis (several API processes or
machines share one limit; ``rate_limit_redis = true``). The Redis bucket is one hash per client
updated by a Lua script, so the read-refill-take step is atomic across processes. When Redis
does not answer, the in-process bucket still limits this process (a Redis outage must not
open the public route wide), and the fallback is logged once.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from governance.core.errors import ConfigError

__all__ = ["RateDecision", "RateLimiter", "MemoryRateLimiter", "RedisRateLimiter", "make_rate_limiter"]

log = logging.getLogger("reelguard.api")


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    remaining: int
    retry_after_s: int  # whole seconds until a token is free (0 when allowed)


class RateLimiter(Protocol):
    def acquire(self, client: str) -> RateDecision: ...


def _take(tokens: float, last: float, now: float, rate: float, burst: int) -> tuple[float, RateDecision]:
    """One bucket step: refill since ``last``, then take a token if there is one."""
    tokens = min(float(burst), tokens + max(0.0, now - last) * rate)
    if tokens >= 1.0:
        tokens -= 1.0
        return tokens, RateDecision(True, int(tokens), 0)
    return tokens, RateDecision(False, 0, max(1, math.ceil((1.0 - tokens) / rate)))


class MemoryRateLimiter:
    """Buckets in this process; at most ``max_clients`` kept (least recently seen dropped:
    a dropped client comes back with a full bucket, which only ever errs towards serving)."""

    def __init__(self, *, rate_per_s: float, burst: int, max_clients: int = 50_000, clock=time.monotonic) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ConfigError("the public verification rate must be > 0 and its burst >= 1")
        self.rate, self.burst, self.max_clients, self._clock = rate_per_s, burst, max_clients, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, client: str) -> RateDecision:
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(client, (float(self.burst), now))
            tokens, decision = _take(tokens, last, now, self.rate, self.burst)
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return decision


# KEYS[1]: the client's hash; ARGV: rate per second, burst, now (seconds, float), ttl (seconds).
# Returns {allowed (0/1), tokens left * 1000, retry-after seconds}.
_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'last')
local tokens = tonumber(state[1]) or burst
local last = tonumber(state[2]) or now
local elapsed = now - last
if elapsed < 0 then elapsed = 0 end
tokens = math.min(burst, tokens + elapsed * rate)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) / rate)
  if retry < 1 then retry = 1 end
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'last', tostring(now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return {allowed, math.floor(tokens * 1000), retry}
"""


class RedisRateLimiter:
    """Buckets in Redis, shared by every API process that uses the same ``url``."""

    PREFIX = "reelguard:ratelimit:public:"

    def __init__(self, url: str, *, rate_per_s: float, burst: int) -> None:
        import redis

        self.rate, self.burst = rate_per_s, burst
        self._client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        self._script = self._client.register_script(_LUA)
        self._fallback = MemoryRateLimiter(rate_per_s=rate_per_s, burst=burst)
        self._warned = False
        # A full bucket refills in burst / rate seconds; after that its hash carries nothing.
        self._ttl = max(1, math.ceil(burst / rate_per_s) + 1)

    def acquire(self, client: str) -> RateDecision:
        import redis

        try:
            allowed, left, retry = self._script(
                keys=[self.PREFIX + client], args=[self.rate, self.burst, time.time(), self._ttl]
            )
        except redis.RedisError as exc:
            if not self._warned:
                log.warning("rate limit store unreachable (%s); limiting in this process only", type(exc).__name__)
                self._warned = True
            return self._fallback.acquire(client)
        self._warned = False
        return RateDecision(bool(allowed), int(left) // 1000, int(retry))


def make_rate_limiter(settings) -> RateLimiter:
    """The limiter the settings ask for (``public_verify_per_minute``, ``public_verify_burst``)."""
    rate = settings.public_verify_per_minute / 60.0
    if settings.rate_limit_redis:
        return RedisRateLimiter(settings.broker_url, rate_per_s=rate, burst=settings.public_verify_burst)
    return MemoryRateLimiter(rate_per_s=rate, burst=settings.public_verify_burst)
