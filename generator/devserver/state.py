"""The outcome of the latest build, published to every open page.

The builder calls :meth:`BuildState.succeeded` or :meth:`BuildState.failed`;
each server-sent-events connection waits for the next change with
:meth:`BuildState.wait`. A successful build gets a new build id; a page knows
the id of the build it was served from and reloads when the id moves on.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Snapshot:
    seq: int  # bumps on every change of state, good or bad
    ok: bool
    build: str  # id of the last good build: what a freshly served page shows
    errors: tuple[str, ...] = field(default=())

    def as_event(self) -> dict:
        return {"ok": self.ok, "build": self.build, "errors": list(self.errors)}


class BuildState:
    def __init__(self) -> None:
        # The session part makes ids from an earlier `labpress serve` differ, so a
        # page left open across a restart reloads once the new server answers.
        self._session = secrets.token_hex(4)
        self._count = 0
        self._cond = threading.Condition()
        self._closed = False
        self._snapshot = Snapshot(seq=0, ok=True, build=self._build_id())

    def _build_id(self) -> str:
        return f"{self._session}-{self._count}"

    @property
    def snapshot(self) -> Snapshot:
        with self._cond:
            return self._snapshot

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed

    def succeeded(self) -> Snapshot:
        with self._cond:
            self._count += 1
            self._snapshot = Snapshot(self._snapshot.seq + 1, True, self._build_id())
            self._cond.notify_all()
            return self._snapshot

    def failed(self, errors: list[str]) -> Snapshot:
        with self._cond:
            self._snapshot = Snapshot(self._snapshot.seq + 1, False, self._snapshot.build, tuple(errors))
            self._cond.notify_all()
            return self._snapshot

    def wait(self, seen: int, timeout: float) -> Snapshot | None:
        """The state once it differs from ``seen`` (a seq), or None after ``timeout`` or on close."""
        with self._cond:
            self._cond.wait_for(lambda: self._closed or self._snapshot.seq != seen, timeout)
            if self._closed or self._snapshot.seq == seen:
                return None
            return self._snapshot

    def close(self) -> None:
        """Wake every waiting connection so it can end."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
