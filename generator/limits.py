"""Time limits for code an author wrote that runs at build time (figure blocks, widget kernels).

A kernel stuck in ``while True: pass`` must end the build with an error that
names the limit, never hang it. ``call_with_deadline`` runs a function and,
when it is still running after the limit, raises ``TimeLimitExceeded`` inside
it: in the main thread by a SIGALRM timer (which also ends a ``time.sleep``),
in any other thread by asking the interpreter to raise it at the next
bytecode (``PyThreadState_SetAsyncExc``). The exception derives from
BaseException so an author's ``except Exception:`` does not swallow it, and
it is raised again every tenth of a second until the code gives up.

Code blocked inside one long call into a C library (one huge numpy operation)
sees the exception only when that call returns.

Such code turns every exception it raises into an error in the post, its own
``raise KeyboardInterrupt`` included; ``Interrupts`` tells that apart from a
Ctrl-C at the terminal, which must still stop the build.
"""

from __future__ import annotations

import ctypes
import signal
import threading
from typing import Callable, TypeVar

T = TypeVar("T")

# The default for ``[limits] seconds_per_block`` in labpress.toml.
DEFAULT_SECONDS = 30.0


class TimeLimitExceeded(BaseException):
    """Raised inside code that ran past its time limit (not an Exception: ``except Exception`` must not hide it)."""


class TimeLimitError(Exception):
    """What the caller sees: the code ran for longer than ``seconds``."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"ran for more than {seconds:g} s")


_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)
_set_async_exc.restype = ctypes.c_int
_clear_async_exc = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi))

_active = threading.local()


def call_with_deadline(seconds: float | None, function: Callable[..., T], *args, **kwargs) -> T:
    """``function(*args, **kwargs)``, or TimeLimitError once it has run for ``seconds`` (None or 0: no limit).

    A call inside another call that already has a deadline runs under the outer one.
    """
    if not seconds or seconds <= 0 or getattr(_active, "on", False):
        return function(*args, **kwargs)
    _active.on = True
    try:
        if threading.current_thread() is threading.main_thread():
            return _with_alarm(seconds, function, args, kwargs)
        return _with_watchdog(seconds, function, args, kwargs)
    finally:
        _active.on = False


def _with_alarm(seconds: float, function, args, kwargs):
    def expired(signum, frame):
        raise TimeLimitExceeded

    previous = signal.signal(signal.SIGALRM, expired)
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, seconds, 0.1)  # then again every 0.1 s until cancelled
            return function(*args, **kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    except TimeLimitExceeded:
        raise TimeLimitError(seconds) from None


def _with_watchdog(seconds: float, function, args, kwargs):
    thread_id = threading.get_ident()
    finished = threading.Event()
    lock = threading.Lock()
    running = [True]

    def watch() -> None:
        if finished.wait(seconds):
            return
        while True:
            with lock:
                if not running[0]:
                    return
                _set_async_exc(thread_id, TimeLimitExceeded)
            if finished.wait(0.1):
                return

    watchdog = threading.Thread(target=watch, name="labpress-deadline", daemon=True)
    watchdog.start()
    try:
        try:
            return function(*args, **kwargs)
        finally:
            with lock:
                running[0] = False
            finished.set()
    except TimeLimitExceeded:
        raise TimeLimitError(seconds) from None
    finally:
        _clear_async_exc(thread_id, None)  # one raised just as the call returned must not fire later
        watchdog.join()


class Interrupts:
    """While an author's code runs: notes a real Ctrl-C (SIGINT), so that it is not taken for the
    code's own ``raise KeyboardInterrupt`` (an error in the post), and stops the build with it on
    the way out. Only the main thread gets SIGINT: elsewhere every KeyboardInterrupt is the code's.
    """

    real = False

    def __enter__(self) -> "Interrupts":
        self.real = False
        self._previous = None
        if threading.current_thread() is not threading.main_thread():
            return self
        previous = signal.getsignal(signal.SIGINT)
        if previous == signal.SIG_IGN:
            return self

        def noted(signum, frame):
            self.real = True
            if callable(previous):
                return previous(signum, frame)
            raise KeyboardInterrupt

        try:
            signal.signal(signal.SIGINT, noted)
        except (ValueError, OSError):  # pragma: no cover - no signals here
            return self
        self._previous = previous
        return self

    def __exit__(self, kind, value, tb) -> bool:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        if self.real and not isinstance(value, KeyboardInterrupt):
            raise KeyboardInterrupt
        return False
