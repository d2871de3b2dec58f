"""One token's rate budget shared by every process and machine, through Redis.

Productive counts requests per token and per organization on the server (the API reference,
"Rate limits"), so every process using a token spends one budget. :class:`RedisBackend` keeps
that budget in Redis, as the sliding-window logs of :mod:`._ratelimit` kept in sorted sets, with
the same rule as in one process: a slot is occupied from its grant until the request's answer
(or failure) arrives, and counts for ``T + margin`` from then.

- A request takes all of its classes (``standard``, ``organization`` and its own class, if any)
  in one atomic step, a Lua script (``_ACQUIRE``) that reads Redis's own clock (``TIME``),
  drops each log's entries that left their window, and either adds the request to every log
  as *in flight* or answers "wait N microseconds": until the entry that blocks leaves its
  window, until a 429 pause ends, or, when the N slots are all in flight, one window (no slot
  can free sooner than a window after the next answer).
- When the answer arrives the process *settles* the slot (``_SETTLE``): its entries are
  re-stamped with Redis's clock at that moment. The server saw the request between the grant
  and the answer, so counting from the answer keeps every server window at or under the limit
  whatever the delay in between (a new TLS connection, a busy event loop, a slow network):
  the send-time question never arises, as a request's stamp is never earlier than its arrival.
  Settlements of one event-loop turn go to Redis in one call.
- Stamps come from Redis's clock only; a process measures nothing but durations, so a process
  whose clock is off takes no more than its share.
- An entry in flight carries a lease (``LEASE`` seconds), renewed while its request runs; a
  process that dies holding a slot stops renewing it, and the slot is lost for at most the
  lease plus one window. Nothing is ever admitted over the limit because of it.
- A 429 in any process writes a pause for the class (``_PAUSE``), never earlier than one that
  is there, and every process waits for it.
- Keys are ``<key_prefix>{org:<id>}:...``: one Redis Cluster hash slot per organization, so one
  script can touch every key of a request. The per-token classes carry a SHA-256 digest of the
  token, never the token. Every key expires on its own after its last write.

When Redis cannot be reached the policy ``on_unavailable`` decides: ``"local"`` goes on with an
in-process :class:`~._ratelimit.RateGate` at ``local_share`` of each rate (counting this
process's own requests of the current windows), warns once per outage, probes Redis
every ``probe_interval`` seconds and, when it answers, writes the requests sent meanwhile into
the logs (``_RECORD``; those sent from then on at once), and goes back a probe interval later
(by then every process has seen Redis back and written its own in: a Redis that restarted
empty knows them all); ``"wait"`` waits for Redis up to ``max_wait`` seconds and then raises
:class:`~productive_async.RateBackendError`; ``"raise"`` raises it at once.
Every Redis command is bounded by ``timeout`` seconds (connecting and answering) and is never
retried behind the caller's back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import itertools
import logging
import math
import os
from collections import deque
from collections.abc import Awaitable, Iterable
from typing import TYPE_CHECKING, Any, Literal

from yarl import URL

from ._clock import Clock
from ._errors import InvalidRequestError, RateBackendError
from ._ratelimit import (
    PER_TOKEN_CLASSES,
    RateGate,
    RateLimits,
    Slot,
    _closed_error,
    class_matching,
    classes_for,
)

if TYPE_CHECKING:
    import redis.asyncio

    RedisClient = redis.asyncio.Redis | redis.asyncio.RedisCluster

log = logging.getLogger("productive_async")

OnUnavailable = Literal["local", "wait", "raise"]

#: Every script starts by reading Redis's clock: ``now``, in microseconds since the epoch.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
"""

#: Seconds an in-flight entry counts without news from its process; renewed every third of it.
LEASE = 3.0
#: The most slots one call asks for.
MAX_BATCH = 64

#: KEYS: a log and a pause key per class. ARGV: the lease in microseconds, the number of slots
#: wanted (k), k new members, then per class its limit (0: no log, a pause only) and its
#: window plus margin in microseconds. Grants as many of the k as every class has room for,
#: in flight from ``TIME``. Returns {granted, stamp (microseconds), wait}: the microseconds
#: until one more could be granted (0 when all k were).
_ACQUIRE = _NOW + """
local lease, wanted = tonumber(ARGV[1]), tonumber(ARGV[2])
local params = 2 + wanted
local classes = #KEYS / 2

local function blocked(log, limit, span)
  -- microseconds until the log has room for one more (0: it has)
  local count = redis.call('ZCARD', log)
  if count < limit then return 0 end
  local blocking = redis.call('ZRANGE', log, count - limit, count - limit, 'WITHSCORES')
  local stamp = tonumber(blocking[2])
  -- in flight (stamped ahead): no room before a window after its answer
  if stamp > now then return span end
  return stamp + span - now
end

local wait, grant = 0, wanted
for i = 1, classes do
  local log, pause = KEYS[2 * i - 1], KEYS[2 * i]
  local limit, span = tonumber(ARGV[params + 2 * i - 1]), tonumber(ARGV[params + 2 * i])
  local paused = tonumber(redis.call('GET', pause) or '0') - now
  if paused > wait then wait = paused end
  if limit > 0 then
    redis.call('ZREMRANGEBYSCORE', log, '-inf', string.format('%.0f', now - span))
    local room = limit - redis.call('ZCARD', log)
    if room < grant then grant = room end
    if room <= 0 then
      local free = blocked(log, limit, span)
      if free > wait then wait = free end
    end
  end
end
if wait > 0 or grant <= 0 then return {0, now, wait} end
local in_flight = string.format('%.0f', now + lease)
for i = 1, classes do
  local log = KEYS[2 * i - 1]
  local limit, span = tonumber(ARGV[params + 2 * i - 1]), tonumber(ARGV[params + 2 * i])
  if limit > 0 then
    for m = 1, grant do redis.call('ZADD', log, in_flight, ARGV[2 + m]) end
    redis.call('PEXPIRE', log, math.ceil((lease + span) / 1000) + 1000)
    if grant < wanted then
      local free = blocked(log, limit, span)
      if free > wait then wait = free end
    end
  end
end
return {grant, now, wait}
"""

#: KEYS: logs. ARGV: the lease in microseconds, the number of answered members, each log's
#: window plus margin in microseconds, the answered members (stamped now: they count for a
#: window from here), then members still in flight (their lease renewed). Only members present
#: are touched; a log lives at least as long as what it holds. Returns 1.
_SETTLE = _NOW + """
local lease, answered = tonumber(ARGV[1]), tonumber(ARGV[2])
local stamp, renewed = string.format('%.0f', now), string.format('%.0f', now + lease)
local first = 3 + #KEYS
for k = 1, #KEYS do
  local keep = math.ceil((lease + tonumber(ARGV[2 + k])) / 1000) + 1000
  if redis.call('PTTL', KEYS[k]) < keep then redis.call('PEXPIRE', KEYS[k], keep) end
end
for i = first, #ARGV do
  local score = stamp
  if i >= first + answered then score = renewed end
  for k = 1, #KEYS do
    redis.call('ZADD', KEYS[k], 'XX', score, ARGV[i])
  end
end
return 1
"""

#: KEYS: pause keys. ARGV[1]: the pause in microseconds from now. A pause is only ever
#: lengthened. Returns 1.
_PAUSE = _NOW + """
local duration = tonumber(ARGV[1])
local until_ = now + duration
for i = 1, #KEYS do
  local current = tonumber(redis.call('GET', KEYS[i]) or '0')
  if until_ > current then
    redis.call('SET', KEYS[i], string.format('%.0f', until_), 'PX',
               math.ceil(duration / 1000) + 1)
  end
end
return 1
"""

#: KEYS: logs. ARGV: the lease in microseconds, each log's window plus margin in microseconds,
#: then pairs of member and age in microseconds (requests sent by the local fallback while Redis
#: was away: answered that long ago, or, for an age of -1, still in flight). Returns the number
#: of entries written.
_RECORD = _NOW + """
local lease = tonumber(ARGV[1])
local written = 0
for i = #KEYS + 2, #ARGV, 2 do
  local age = tonumber(ARGV[i + 1])
  local stamp = now - age
  if age < 0 then stamp = now + lease end
  for k = 1, #KEYS do
    local span = tonumber(ARGV[1 + k])
    if stamp > now - span then
      redis.call('ZADD', KEYS[k], string.format('%.0f', stamp), ARGV[i])
      local keep = math.ceil((lease + span) / 1000) + 1000
      if redis.call('PTTL', KEYS[k]) < keep then redis.call('PEXPIRE', KEYS[k], keep) end
      written = written + 1
    end
  end
end
return written
"""

#: KEYS: logs. ARGV: members to remove (slots given back, never used). Returns 1.
_GIVE_BACK = """
for i = 1, #KEYS do
  for j = 1, #ARGV do redis.call('ZREM', KEYS[i], ARGV[j]) end
end
return 1
"""


class _Unavailable(Exception):
    """Redis did not answer (internal; turned into the policy's behaviour)."""


def _address(url: str) -> str:
    """A Redis URL without its password (in the userinfo or the query)."""
    parsed = URL(url)
    if parsed.password is None and "password" not in parsed.query:
        return url
    if parsed.password is not None:
        parsed = parsed.with_password("***")
    if "password" in parsed.query:
        parsed = parsed.update_query(password="***")
    return str(parsed)


def _token_digest(token: str) -> str:
    return hashlib.sha256(b"productive-async token:" + token.encode()).hexdigest()[:16]


class RedisBackend:
    """A rate budget in Redis, shared by every client (process, machine) that uses it:
    ``pa.Productive(token, org, rate_backend=pa.RedisBackend("redis://host:6379/0"))``.

    ``connection``: a ``redis://``, ``rediss://`` or ``unix://`` URL (the SDK opens the connection,
    with ``timeout`` on connecting and on every answer and no retries, and closes it with the
    last client using it), or your own ``redis.asyncio.Redis`` / ``RedisCluster`` (yours: the
    SDK never closes it; each command is still bounded by ``timeout``).

    ``key_prefix`` (default ``"productive-async:"``) starts every key; keys are
    ``<key_prefix>{org:<organization id>}:<scope>:<class>``, where the scope is ``org`` or, for
    the per-token classes (``standard``, ``reports``), ``token:<digest of the token>``.

    ``on_unavailable``: what a request does when Redis does not answer within ``timeout``:
    ``"local"`` (default) goes on with this process's own limiter at ``local_share`` (default
    0.25: set it to 1 / number of processes) of each rate, logs one warning per outage, probes
    Redis every ``probe_interval`` seconds (default 1.0) and writes the requests sent meanwhile
    into Redis when it is back; ``"wait"`` waits for Redis up to ``max_wait`` seconds (default
    30) and then raises :class:`~productive_async.RateBackendError`; ``"raise"`` raises it at
    once. ``timeout`` is in seconds (default 0.5).

    ``stats`` counts, for all clients using this backend: ``calls`` (Redis round trips),
    ``grants``, ``waits`` (answers "wait"), ``settles`` (calls stamping answered requests, and
    renewing the leases of those in flight), ``fallback_grants``, ``outages``, ``recorded``
    (fallback requests written back).

    Raises :class:`~productive_async.InvalidRequestError` when redis-py is not installed
    (``pip install 'productive-async[redis]'``) or for an invalid option.
    """

    def __init__(
        self,
        connection: str | RedisClient,
        *,
        key_prefix: str = "productive-async:",
        on_unavailable: OnUnavailable = "local",
        local_share: float = 0.25,
        timeout: float = 0.5,
        max_wait: float = 30.0,
        probe_interval: float = 1.0,
    ) -> None:
        try:
            importlib.import_module("redis.asyncio")
        except ImportError:
            raise InvalidRequestError(
                "RedisBackend needs redis-py: pip install 'productive-async[redis]'") from None
        if on_unavailable not in ("local", "wait", "raise"):
            raise InvalidRequestError(
                f"on_unavailable must be 'local', 'wait' or 'raise', not {on_unavailable!r}")
        for name, value in (("timeout", timeout), ("max_wait", max_wait),
                            ("probe_interval", probe_interval)):
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not 0 < value < math.inf:
                raise InvalidRequestError(f"{name} must be a number of seconds > 0, "
                                          f"not {value!r}")
        if isinstance(local_share, bool) or not isinstance(local_share, int | float) \
                or not 0 < local_share <= 1:
            raise InvalidRequestError(f"local_share must be > 0 and <= 1, not {local_share!r}")
        if not isinstance(key_prefix, str) or "{" in key_prefix or "}" in key_prefix:
            raise InvalidRequestError(
                f"key_prefix must be a string without braces (they would change the Redis "
                f"Cluster hash tag), not {key_prefix!r}")
        self.key_prefix = key_prefix
        self.on_unavailable: OnUnavailable = on_unavailable
        self.local_share = float(local_share)
        self.timeout = float(timeout)
        self.max_wait = float(max_wait)
        self.probe_interval = float(probe_interval)
        self.stats: dict[str, int] = dict.fromkeys(
            ("calls", "grants", "waits", "settles", "fallback_grants", "outages", "recorded"),
            0)
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scripts: dict[str, Any] = {}
        self._users = 0
        if isinstance(connection, str):
            if not connection.startswith(("redis://", "rediss://", "unix://")):
                raise InvalidRequestError(
                    f"the Redis URL must start with redis://, rediss:// or unix://, not "
                    f"{_address(connection)!r}")
            self._url: str | None = connection
            self.address = _address(connection)
            self._owns = True
        else:
            if not hasattr(connection, "register_script"):
                raise InvalidRequestError(
                    f"RedisBackend takes a Redis URL or a redis.asyncio client, not "
                    f"{type(connection).__name__}")
            self._url = None
            self._client = connection
            self.address = type(connection).__name__
            self._owns = False

    def __repr__(self) -> str:
        return f"<RedisBackend {self.address} on_unavailable={self.on_unavailable}>"

    # ------------------------------------------------------------------ connection

    def _connection(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._owns and (self._client is None or self._loop is not loop):
            # A connection pool belongs to the loop that opened it (a second asyncio.run
            # starts afresh; the old loop's connections died with it).
            import redis.asyncio
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            assert self._url is not None
            self._client = redis.asyncio.Redis.from_url(
                self._url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout,
                retry=Retry(NoBackoff(), 0), health_check_interval=0,
            )
            self._scripts = {}
        self._loop = loop
        return self._client

    async def _run(self, script: str, keys: list[str], args: list[str | int]) -> Any:
        """One round trip: ``script`` on ``keys``/``args``, within ``timeout`` seconds.
        Raises :class:`_Unavailable` for any failure to get an answer."""
        import redis.exceptions

        client = self._connection()
        runner = self._scripts.get(script)
        if runner is None:
            runner = self._scripts[script] = client.register_script(script)
        self.stats["calls"] += 1
        try:
            async with asyncio.timeout(self.timeout * 2):
                return await runner(keys=keys, args=args, client=client)
        except (redis.exceptions.RedisError, OSError, TimeoutError) as exc:
            raise _Unavailable(f"{type(exc).__name__}: {exc}" if str(exc)
                               else type(exc).__name__) from None

    def _bind(self) -> None:
        self._users += 1

    async def _unbind(self) -> None:
        self._users -= 1
        if self._users <= 0 and self._owns and self._client is not None:
            client, self._client = self._client, None
            self._scripts = {}
            loop = asyncio.get_running_loop()
            if self._loop is loop:
                with contextlib.suppress(Exception):
                    await client.aclose()

    def _gate(self, limits: RateLimits, token: str, organization_id: str, clock: Clock
              ) -> SharedGate:
        return SharedGate(self, limits, token, organization_id, clock)


class RedisSlot(Slot):
    """A slot stamped in Redis: it counts in the shared logs for ``T + margin`` from its stamp,
    whatever happens next."""

    __slots__ = ("classes", "member", "stamp")

    def __init__(self, member: str, classes: tuple[str, ...], granted_at: float,
                 stamp: int) -> None:
        super().__init__((), granted_at)
        self.member = member
        self.classes = classes
        #: Redis's ``TIME`` when the slot was taken, in microseconds since the epoch.
        self.stamp = stamp


class _Plan:
    """The script arguments of one set of classes."""

    __slots__ = ("args", "keys", "logs", "spans")

    def __init__(self, keys: list[str], args: list[str | int], logs: list[str],
                 spans: list[int]) -> None:
        self.keys = keys
        self.args = args
        self.logs = logs
        self.spans = spans


class SharedGate:
    """The rate gate of a client with a :class:`RedisBackend` (see the module docstring)."""

    def __init__(self, backend: RedisBackend, limits: RateLimits, token: str,
                 organization_id: str, clock: Clock) -> None:
        self.limits = limits
        self.clock = clock
        self.backend = backend
        self._rates = limits.as_dict()
        #: The in-process gate used while Redis is away (``on_unavailable="local"``); it also
        #: keeps the 429 pauses this process has seen.
        self.fallback = RateGate(limits.scaled(backend.local_share), clock)
        self.paused_until = self.fallback.paused_until
        self._tag = f"{backend.key_prefix}{{org:{organization_id}}}"
        self._token_scope = f"token:{_token_digest(token)}"
        self._lease = math.ceil(LEASE * 1_000_000)
        self._plans: dict[tuple[str, ...], _Plan] = {}
        #: Every log this gate writes (a settlement touches the ones holding its members).
        self._logs = [self._keys(name)[0] for name in self._rates]
        self._spans = [math.ceil((rate.seconds + rate.effective_margin) * 1_000_000)
                       for rate in self._rates.values()]
        #: Waiters per set of classes, and the task serving each queue.
        self._queues: dict[tuple[str, ...], deque[asyncio.Future[Slot | None]]] = {}
        self._drivers: dict[tuple[str, ...], asyncio.Task[None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._members = itertools.count()
        self._process = os.urandom(6).hex()
        self._background: set[asyncio.Task[Any]] = set()
        self._free_at: dict[tuple[str, ...], float] = {}
        #: Redis slots in flight here: member -> local time its lease was last renewed.
        self._in_flight: dict[str, float] = {}
        #: Redis slots answered here and not yet stamped in Redis.
        self._answered: list[str] = []
        self._settler: asyncio.Task[None] | None = None
        self._settle_now: asyncio.Event | None = None
        #: Local time the current outage began, or None while Redis answers.
        self.outage_since: float | None = None
        self._recovered: asyncio.Event | None = None
        self._probe: asyncio.Task[None] | None = None
        #: Requests the fallback granted during an outage: (member, classes, slot).
        self._unrecorded: deque[tuple[str, tuple[str, ...], Slot]] = deque()
        #: Fallback slots written into Redis while in flight, and their members.
        self._fallback_members: dict[Slot, str] = {}
        #: Local time Redis was seen back after an outage (the fallback still runs), or None.
        self._back_since: float | None = None
        self._closed = False
        self._unbound = False
        backend._bind()

    def __repr__(self) -> str:
        state = "unavailable" if self.outage_since is not None else "shared"
        return f"<SharedGate {self.backend.address} {state}>"

    # ------------------------------------------------------------------ the Gate protocol

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    def classes_for(self, rate_class: str | None) -> tuple[str, ...]:
        """The classes a request of ``rate_class`` takes (see :class:`RateGate`)."""
        return classes_for(rate_class)

    def class_matching(self, limit: int | None, period: float | None) -> str | None:
        """The class whose rate is ``limit`` requests per ``period`` seconds (a 429 body)."""
        return class_matching(self.limits, limit, period)

    async def acquire(self, classes: Iterable[str]) -> Slot:
        """Take a slot in every class of ``classes`` in Redis (or, during an outage, as the
        ``on_unavailable`` policy says); :meth:`release` it when the answer arrives.

        Requests of one set of classes queue here first come, first served, and one call
        asks Redis for as many slots as are waiting. If the waiting task is cancelled it
        takes nothing (a slot granted at that moment is removed again). Raises
        :class:`~productive_async.RateBackendError` (policy ``"raise"``/``"wait"``) or
        :class:`~productive_async.InvalidRequestError` once the client is closed."""
        if self._closed:
            raise _closed_error()
        classes = tuple(classes)
        self._bind_loop()
        waiter: asyncio.Future[Slot | None] = asyncio.get_running_loop().create_future()
        queue = self._queues.setdefault(classes, deque())
        queue.append(waiter)
        driver = self._drivers.get(classes)
        if driver is None or driver.done():
            self._drivers[classes] = asyncio.get_running_loop().create_task(
                self._drive(classes, queue))
        try:
            slot = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._unused(classes, waiter.result())
            elif not waiter.done():
                waiter.cancel()
            raise
        if slot is None:  # Redis is away: the fallback's turn
            return await self._fallback_slot(classes)
        return slot

    def release(self, slot: Slot, at: float | None = None) -> None:
        """The request's answer or failure arrived: a Redis slot is stamped in Redis (with
        Redis's clock, in the next event-loop turn, together with the others of that turn)
        and counts for a window from then; a fallback slot is released in the local gate.
        Releasing a slot twice does nothing."""
        if not isinstance(slot, RedisSlot):
            self.fallback.release(slot, at)
            member = self._fallback_members.pop(slot, None)  # written into Redis meanwhile
            if member is not None and self._in_flight.pop(member, None) is not None:
                self._answered.append(member)
                self._wake_settler()
            return
        if slot.released_at is not None:
            return
        slot.released_at = self.clock.time() if at is None else at
        # The fallback knows this process's recent use, should Redis go away.
        self.fallback.note(slot.classes, slot.released_at)
        if self._in_flight.pop(slot.member, None) is not None and not self._closed:
            self._answered.append(slot.member)
            self._wake_settler()

    def pause(self, classes: Iterable[str], until: float) -> None:
        """A 429: close ``classes`` until local time ``until`` (seconds) here at once, and in
        Redis for every process (in the background; a pause is never shortened)."""
        classes = tuple(classes)
        self.fallback.pause(classes, until)
        duration = until - self.clock.time()
        if duration > 0 and not self._closed:
            keys = [self._keys(name)[1] for name in classes]
            self._spawn(self._write_pause(keys, duration))

    def free_in(self, rate_class: str | None = None) -> float:
        """Seconds until this process expects to get a slot for ``rate_class`` (from the last
        "wait" Redis answered and the 429 pauses; during an outage, the fallback's windows).
        For progress displays; nothing is taken."""
        classes = classes_for(rate_class)
        now = self.clock.time()
        wait = self.fallback.free_in(rate_class) if self.outage_since is not None else max(
            (self.paused_until.get(c, -math.inf) for c in classes), default=-math.inf) - now
        return max(0.0, wait, self._free_at.get(classes, -math.inf) - now)

    def close(self) -> None:
        """Fail every waiting :meth:`acquire` at once, and every later one, with
        :class:`~productive_async.InvalidRequestError` ("the client is closed")."""
        self._closed = True
        self.fallback.close()
        for queue in self._queues.values():
            self._fail(queue, _closed_error())
        for background in (self._probe, self._settler, *self._drivers.values()):
            if background is not None:
                background.cancel()

    async def wait_closed(self) -> None:
        """Stamp the answered requests in Redis and let the last writes (429 pauses, slots
        given back) finish, for at most the backend's timeout; then close the Redis
        connection if the SDK opened it and no other client uses it."""
        if self._unbound:  # closed before
            return
        self._unbound = True
        await asyncio.sleep(0)  # the cancelled queue drivers give back what they held
        if self._answered and self.outage_since is None:
            self._spawn(self._settle())
        if self._background:
            _, pending = await asyncio.wait(self._background, timeout=self.backend.timeout * 2)
            for task in pending:
                task.cancel()
        await self.backend._unbind()

    # ------------------------------------------------------------------ internals

    def _bind_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # Locks and tasks belong to one loop (a client used again in a second asyncio.run).
            self._queues = {}
            self._drivers = {}
            self._background = set()
            self._probe = self._settler = None
            self._settle_now = self._recovered = None
            self._loop = loop

    def _keys(self, name: str) -> tuple[str, str]:
        scope = self._token_scope if name in PER_TOKEN_CLASSES else "org"
        log_key = f"{self._tag}:{scope}:{name}"
        return log_key, f"{log_key}:pause"

    def _plan(self, classes: tuple[str, ...]) -> _Plan:
        plan = self._plans.get(classes)
        if plan is None:
            keys: list[str] = []
            args: list[str | int] = []
            logs: list[str] = []
            spans: list[int] = []
            for name in classes:
                log_key, pause_key = self._keys(name)
                keys += (log_key, pause_key)
                rate = self._rates.get(name)
                if rate is None:
                    args += (0, 0)
                else:
                    span = math.ceil((rate.seconds + rate.effective_margin) * 1_000_000)
                    args += (rate.requests, span)
                    logs.append(log_key)
                    spans.append(span)
            plan = self._plans[classes] = _Plan(keys, args, logs, spans)
        return plan

    async def _drive(self, classes: tuple[str, ...],
                     queue: deque[asyncio.Future[Slot | None]]) -> None:
        """Serve the queue of one set of classes until it is empty: ask Redis for as many
        slots as there are waiters, hand them out in order, sleep as long as Redis says."""
        plan = self._plan(classes)
        stats = self.backend.stats
        policy = self.backend.on_unavailable
        waiting_since: float | None = None
        while True:
            while queue and queue[0].done():
                queue.popleft()
            if not queue or self._closed:
                return
            now = self.clock.time()
            paused = max((self.paused_until.get(c, -math.inf) for c in classes),
                         default=-math.inf)
            if paused > now:  # a 429 seen here: no need to ask Redis before it ends
                await self.clock.sleep(paused - now)
                continue
            if self.outage_since is not None:
                if policy == "local":
                    self._fail(queue, None)  # each waiter goes to the fallback
                    continue
                waiting_since = now if waiting_since is None else waiting_since
                try:
                    await self._wait_for_recovery(waiting_since)
                except RateBackendError as exc:
                    self._fail(queue, exc)
                    waiting_since = None
                continue
            waiting_since = None
            wanted = sum(1 for waiter in itertools.islice(queue, MAX_BATCH)
                         if not waiter.done())
            members = [self._member() for _ in range(wanted)]
            try:
                granted, stamp, wait = await self.backend._run(
                    _ACQUIRE, plan.keys, [self._lease, wanted, *members, *plan.args])
            except _Unavailable as exc:
                self._give_back(plan, members)  # in case it ran before the answer was lost
                if policy == "raise":
                    self._fail(queue, self._error(str(exc)))
                else:
                    self._start_outage(str(exc))
                continue
            except asyncio.CancelledError:
                self._give_back(plan, members)  # the script may have run
                raise
            granted = int(granted)
            if granted:
                stats["grants"] += granted
                local = self.clock.time()
                spare: list[str] = []
                for member in members[:granted]:
                    while queue and queue[0].done():
                        queue.popleft()
                    if not queue:  # its waiter was cancelled during the call
                        spare.append(member)
                        continue
                    if plan.logs:
                        self._in_flight[member] = local
                    queue.popleft().set_result(RedisSlot(member, classes, local, int(stamp)))
                self._give_back(plan, spare)
                if plan.logs and len(spare) < granted:
                    self._wake_settler()  # (lease renewals)
            if int(wait) > 0 and queue:
                stats["waits"] += 1
                seconds = int(wait) / 1_000_000
                self._free_at[classes] = self.clock.time() + seconds
                try:
                    await self.clock.sleep(seconds)
                finally:
                    self._free_at.pop(classes, None)

    def _member(self) -> str:
        return f"{self._process}:{next(self._members)}"

    @staticmethod
    def _fail(queue: deque[asyncio.Future[Slot | None]],
              error: BaseException | None) -> None:
        """Answer every waiter of ``queue``: with ``error``, or None (use the fallback)."""
        while queue:
            waiter = queue.popleft()
            if not waiter.done():
                if error is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(error)

    def _unused(self, classes: tuple[str, ...], slot: Slot | None) -> None:
        """A slot granted to a waiter cancelled before it could send: remove it again."""
        if isinstance(slot, RedisSlot) and self._in_flight.pop(slot.member, None) is not None:
            slot.released_at = slot.granted_at
            self._give_back(self._plan(classes), [slot.member])

    def _wake_settler(self) -> None:
        if self._settler is None or self._settler.done():
            self._settle_now = asyncio.Event()
            self._settler = asyncio.get_running_loop().create_task(self._settle_loop())
        assert self._settle_now is not None
        self._settle_now.set()

    async def _settle_loop(self) -> None:
        """Stamp answered requests in Redis as they come (those of one event-loop turn in one
        call) and renew the leases of those in flight every third of a lease."""
        assert self._settle_now is not None
        renew_every = LEASE / 3
        while not self._closed:
            if not self._answered and not self._due_renewals(renew_every):
                if not self._in_flight:
                    self._settle_now.clear()
                    await self._settle_now.wait()
                    continue
                with contextlib.suppress(TimeoutError):
                    self._settle_now.clear()
                    async with asyncio.timeout(renew_every / 2):
                        await self._settle_now.wait()
                continue
            try:
                await self._settle()
            except _Unavailable as exc:
                # The entries stay in flight in Redis (counted, never under-counted) until
                # Redis answers again or their leases end.
                log.debug("Redis settlement postponed: %s", exc)
                await self.clock.sleep(self.backend.probe_interval)

    def _due_renewals(self, every: float) -> list[str]:
        now = self.clock.time()
        return [m for m, renewed in self._in_flight.items() if now - renewed >= every]

    async def _settle(self) -> None:
        answered, self._answered = self._answered, []
        renewals = self._due_renewals(LEASE / 3)
        now = self.clock.time()
        for member in renewals:
            self._in_flight[member] = now
        self.backend.stats["settles"] += 1
        try:
            await self.backend._run(
                _SETTLE, self._logs,
                [self._lease, len(answered), *self._spans, *answered, *renewals])
        except _Unavailable:
            self._answered[:0] = answered
            raise

    async def _fallback_slot(self, classes: tuple[str, ...]) -> Slot:
        recovered = self._recovered
        if self.outage_since is None or recovered is None:
            return await self.acquire(classes)
        # Wait in the fallback until it grants or Redis is back, whichever comes first: a
        # request the fallback lets go after Redis is back would be invisible to the others.
        granting = asyncio.ensure_future(self.fallback.acquire(classes))
        back = asyncio.ensure_future(recovered.wait())
        try:
            await asyncio.wait((granting, back), return_when=asyncio.FIRST_COMPLETED)
        finally:
            back.cancel()
            if not granting.done():
                granting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await granting  # (cancellation-safe: a slot just granted is given back)
        if granting.cancelled():
            return await self.acquire(classes)
        slot = granting.result()
        if self.outage_since is None:
            self.fallback.give_back(slot)
            return await self.acquire(classes)
        self.backend.stats["fallback_grants"] += 1
        if slot.windows:
            self._unrecorded.append((self._member(), classes, slot))
            if self._back_since is not None:  # Redis answers again: tell it at once
                self._spawn(self._record_soon())
        return slot

    async def _wait_for_recovery(self, since: float) -> None:
        left = since + self.backend.max_wait - self.clock.time()
        recovered = self._recovered
        if left <= 0 or recovered is None:
            raise self._error(f"not back after {self.backend.max_wait:g} s")
        try:
            async with asyncio.timeout(left):
                await recovered.wait()
        except TimeoutError:
            raise self._error(f"not back after {self.backend.max_wait:g} s") from None

    def _error(self, cause: str) -> RateBackendError:
        return RateBackendError(
            f"the shared rate budget in Redis ({self.backend.address}) is unavailable: "
            f"{cause}; nothing was sent (RedisBackend on_unavailable="
            f"{self.backend.on_unavailable!r})")

    def _start_outage(self, cause: str) -> None:
        if self.outage_since is not None:
            return
        now = self.clock.time()
        self.outage_since = now
        self.backend.stats["outages"] += 1
        self._recovered = asyncio.Event()
        if self.backend.on_unavailable == "local":
            log.warning(
                "Redis (%s) is unavailable (%s): this process goes on with its own rate "
                "limiter at %g of each rate until Redis is back",
                self.backend.address, cause, self.backend.local_share)
        else:
            log.warning("Redis (%s) is unavailable (%s): requests wait for it (at most %g s)",
                        self.backend.address, cause, self.backend.max_wait)
        self._probe = asyncio.get_running_loop().create_task(self._probe_until_back())

    async def _probe_until_back(self) -> None:
        interval = self.backend.probe_interval
        while not self._closed:
            await self.clock.sleep(interval)
            try:
                await self._record_fallback()
                self._back_since = self.clock.time()
                if self.backend.on_unavailable == "local":
                    # Every process sees Redis back within one probe interval and then
                    # writes in what its fallback sent; a Redis that restarted empty knows
                    # the others' requests only after that. Until then, stay on the fallback
                    # (writing in its requests as they go).
                    await self.clock.sleep(interval * 1.1)
                    await self._record_fallback()
            except _Unavailable:
                self._back_since = None
                continue
            # Nothing awaited since the last write: every fallback request is in Redis.
            since = self.outage_since or self.clock.time()
            self.outage_since = self._back_since = None
            if self._recovered is not None:
                self._recovered.set()
            if self._answered:
                self._wake_settler()
            log.warning("Redis (%s) is back after %.1f s; requests share its budget again",
                        self.backend.address, self.clock.time() - since)
            return

    async def _record_fallback(self) -> None:
        """Write the fallback's requests into Redis (or just reach it, when there are none):
        those answered with their answer's age, those in flight as in flight (settled when
        their answer comes, as a Redis slot is)."""
        if not self._unrecorded:
            await self.backend._run(_GIVE_BACK, [], [""])
            return
        while self._unrecorded:
            batch = list(self._unrecorded)
            self._unrecorded.clear()
            groups: dict[tuple[str, ...], list[str | int]] = {}
            now = self.clock.time()
            flying = [(member, slot) for member, _, slot in batch if slot.released_at is None]
            for member, classes, slot in batch:
                age = -1 if slot.released_at is None else max(
                    0, math.ceil((now - slot.released_at) * 1_000_000))
                groups.setdefault(classes, []).extend((member, age))
            try:
                for classes, pairs in groups.items():
                    plan = self._plan(classes)
                    written = await self.backend._run(
                        _RECORD, plan.logs, [self._lease, *plan.spans, *pairs])
                    self.backend.stats["recorded"] += int(written)
            except _Unavailable:
                self._unrecorded.extendleft(reversed(batch))
                raise
            for member, slot in flying:
                if slot.released_at is None:
                    self._in_flight[member] = now
                    self._fallback_members[slot] = member
                else:  # answered while it was being written in
                    self._answered.append(member)
            if flying:
                self._wake_settler()

    async def _record_soon(self) -> None:
        try:
            await self._record_fallback()
        except _Unavailable as exc:
            log.debug("Redis write postponed: %s", exc)

    def _give_back(self, plan: _Plan, members: list[str]) -> None:
        if members and plan.logs:
            self._spawn(self.backend._run(_GIVE_BACK, plan.logs, [*members]))

    async def _write_pause(self, keys: list[str], duration: float) -> None:
        await self.backend._run(_PAUSE, keys, [math.ceil(duration * 1_000_000)])

    def _spawn(self, work: Awaitable[Any]) -> None:
        async def run() -> None:
            try:
                await work
            except _Unavailable as exc:
                # The local state holds (a pause here; a stamp costs one window at most).
                log.debug("Redis write skipped: %s", exc)

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
