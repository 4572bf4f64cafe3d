"""Control types: what a reader can change, its bounds, and every state it can take."""

from __future__ import annotations

import math


class ControlError(ValueError):
    """A control value (a default, an author's override, or browser input) is not allowed.

    ``control`` is the name of the control whose value it was, when known.
    """

    control = ""


# More grid points than this and a slider's index arithmetic loses whole steps in floats.
MAX_STEPS = 10 ** 15


def shown(value, limit: int = 60) -> str:
    """A short repr of ``value`` for an error message, in bounded time whatever its size or nesting.

    Values come from YAML or JSON (an author's override, the browser's state), which may
    hold a 5,000-digit number, a megabyte of text or aliases nested into billions of items.
    """
    out: list[str] = []
    room = [limit + 1]  # one more than shown: running out of room means the text was cut

    def put(text: str) -> bool:
        out.append(text[:room[0]])
        room[0] -= len(text)
        return room[0] > 0

    def walk(item, depth: int) -> bool:
        if isinstance(item, (list, tuple, set, frozenset, dict)):
            opening, closing = {list: "[]", tuple: "()", dict: "{}"}.get(type(item), "{}")
            if depth > 3:
                return put(opening[0] + "…" + closing)
            if not put(opening):
                return False
            for i, entry in enumerate(item.items() if isinstance(item, dict) else item):
                if i and not put(", "):
                    return False
                if isinstance(item, dict):
                    if not (walk(entry[0], depth + 1) and put(": ") and walk(entry[1], depth + 1)):
                        return False
                elif not walk(entry, depth + 1):
                    return False
            return put("," + closing if isinstance(item, tuple) and len(item) == 1 else closing)
        if isinstance(item, int) and not isinstance(item, bool) and item.bit_length() > 64:
            digits = int((item.bit_length() - 1) * 0.30103) + 1  # 10 ** (digits - 1) <= abs(item), or nearly
            if item.bit_length() > 100_000:
                return put(f"a number of about {digits} digits")
            return put(f"a number of {digits + (abs(item) >= 10 ** digits)} digits")
        if isinstance(item, (str, bytes)):
            return put(repr(item[:limit + 1]))
        try:
            text = repr(item)
        except Exception:  # an object whose repr fails still gets a message
            text = f"<{type(item).__name__}>"
        return put(text if isinstance(text, str) else f"<{type(item).__name__}>")

    walk(value, 0)
    text = "".join(out)
    return text if room[0] > 0 else text[:limit - 1] + "…"


def _is_finite_number(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, int):
        return value.bit_length() <= 1023  # any larger int is not a float
    return math.isfinite(value)


def _number(value, what: str) -> float:
    if not _is_finite_number(value):
        if isinstance(value, int) and not isinstance(value, bool):
            raise ControlError(f"{what} must be a number below 1e308, not {shown(value)}")
        raise ControlError(f"{what} must be a number, not {shown(value)}")
    return float(value)


def _tidy(x: float) -> float:
    """Round away binary noise so the same grid point is the same float everywhere."""
    return round(x, 10) + 0.0


class Control:
    kind = "control"

    def __init__(self, value, label: str = ""):
        self.label = label
        self.name = ""  # set by @widget
        self.default = value

    def coerce(self, value):
        """The allowed value closest to ``value``; raises ControlError if it is not allowed at all."""
        raise NotImplementedError

    def states(self) -> list | None:
        """Every value the control can take, or None when it is continuous (see ``count`` before asking)."""
        return None

    def count(self) -> int | None:
        """How many values the control can take, without listing them; None when it is continuous."""
        return None

    def index_of(self, value) -> int:
        return self.states().index(self.coerce(value))

    @property
    def _called(self) -> str:
        """How error messages name the control: its name (or label), quoted; before @widget names it
        (a default checked in the constructor), what it is."""
        name = self.name or self.label
        return f"'{name}'" if name else f"the {self.kind}'s value"

    def describe(self) -> dict:
        return {"kind": self.kind, "label": self.label or self.name}


class Slider(Control):
    kind = "slider"

    def __init__(self, min: float, max: float, value: float | None = None, step: float | None = None,
                 label: str = "", unit: str = ""):
        self.min = _number(min, "slider min")
        self.max = _number(max, "slider max")
        if self.max <= self.min:
            raise ControlError(f"slider max ({max}) must be above its min ({min})")
        self.step = None if step is None else _number(step, "slider step")
        if self.step is not None and self.step <= 0:
            raise ControlError("slider step must be positive")
        if self.step is not None and not (self.max - self.min) / self.step < MAX_STEPS:
            raise ControlError(f"slider step {self.step:g} is too small for the range {self.min:g} to {self.max:g}"
                               f" (more than {MAX_STEPS:.0e} steps); leave the step out for a continuous slider")
        self.unit = unit
        super().__init__(self.min if value is None else value, label)
        self.default = self.coerce(self.default)

    def _last(self) -> int:
        """The index of the top state on the step grid."""
        return int(math.floor((self.max - self.min) / self.step + 1e-9))

    def _index(self, x: float) -> int:
        return max(0, min(round((x - self.min) / self.step), self._last()))

    def coerce(self, value):
        x = _number(value, f"{self._called}")
        if x < self.min - 1e-9 or x > self.max + 1e-9:
            raise ControlError(f"{self._called} must be between {self.min:g} and {self.max:g}, not {shown(value)}")
        if self.step is None:
            return _tidy(x)
        return _tidy(self.min + self._index(x) * self.step)

    def count(self):
        return None if self.step is None else self._last() + 1

    def states(self):
        if self.step is None:
            return None
        return [_tidy(self.min + k * self.step) for k in range(self._last() + 1)]

    def index_of(self, value) -> int:
        """The grid index of ``value``, by arithmetic (the browser's frame keys are computed the same way)."""
        x = self.coerce(value)
        if self.step is None:
            raise ControlError(f"{self._called} is continuous: its values have no index")
        return self._index(x)

    def describe(self):
        return {**super().describe(), "min": self.min, "max": self.max, "step": self.step, "unit": self.unit}


class Toggle(Control):
    kind = "toggle"

    def __init__(self, value: bool = False, label: str = ""):
        super().__init__(value, label)
        self.default = self.coerce(value)

    def coerce(self, value):
        if not isinstance(value, bool):
            raise ControlError(f"{self._called} must be true or false, not {shown(value)}")
        return value

    def states(self):
        return [False, True]

    def count(self):
        return 2

    def index_of(self, value) -> int:
        return 1 if self.coerce(value) else 0


class Choice(Control):
    """One of a set of labelled values: ``Choice({"sgd": "SGD", "adam": "Adam"}, value="adam")``."""

    kind = "choice"

    def __init__(self, options, value=None, label: str = ""):
        pairs = list(options.items()) if isinstance(options, dict) else [(o, str(o)) for o in options]
        if not pairs:
            raise ControlError("a choice needs at least one option")
        for option, _ in pairs:
            if not isinstance(option, (str, int, float)) or isinstance(option, bool):
                raise ControlError(f"choice values must be text or numbers, not {shown(option)}")
        self.options = pairs
        super().__init__(pairs[0][0] if value is None else value, label)
        self.default = self.coerce(self.default)

    def _find(self, value) -> int:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            for i, (option, _) in enumerate(self.options):
                if option == value and isinstance(option, str) == isinstance(value, str):
                    return i
        allowed = shown([o for o, _ in self.options[:6]], 80).strip("[]")
        more = f" and {len(self.options) - 6} more" if len(self.options) > 6 else ""
        raise ControlError(f"{self._called} must be one of {allowed}{more}, not {shown(value)}")

    def coerce(self, value):
        return self.options[self._find(value)][0]

    def states(self):
        return [option for option, _ in self.options]

    def count(self):
        return len(self.options)

    def index_of(self, value) -> int:
        return self._find(value)


class Point(Control):
    """A point the reader drags in the figure, in data coordinates, within bounds."""

    kind = "point"

    def __init__(self, value=(0.0, 0.0), x=(-1.0, 1.0), y=(-1.0, 1.0), label: str = "", step: float = 0.05):
        self.x = (_number(x[0], "point x bound"), _number(x[1], "point x bound"))
        self.y = (_number(y[0], "point y bound"), _number(y[1], "point y bound"))
        self.step = _number(step, "point step")
        super().__init__(value, label)
        self.default = self.coerce(value)

    def coerce(self, value):
        what = f"{self._called}"
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise ControlError(f"{what} must be a point [x, y], not {shown(value)}")
        px, py = _number(value[0], what + " x"), _number(value[1], what + " y")
        if not (self.x[0] - 1e-9 <= px <= self.x[1] + 1e-9 and self.y[0] - 1e-9 <= py <= self.y[1] + 1e-9):
            raise ControlError(f"{what} must lie within x {self.x[0]:g}..{self.x[1]:g} and y {self.y[0]:g}..{self.y[1]:g}, not {shown(list(value))}")
        return (_tidy(min(max(px, self.x[0]), self.x[1])), _tidy(min(max(py, self.y[0]), self.y[1])))

    def describe(self):
        return {**super().describe(), "x": list(self.x), "y": list(self.y), "step": self.step}


class Seed(Control):
    """A re-roll button for kernels that sample: cycles through ``rolls`` fixed seeds."""

    kind = "seed"

    def __init__(self, value: int = 0, rolls: int = 8, label: str = "Re-roll"):
        if isinstance(rolls, bool) or not isinstance(rolls, int) or rolls < 1:
            raise ControlError("a seed needs a whole number of rolls, at least 1")
        self.rolls = rolls
        super().__init__(value, label)
        self.default = self.coerce(value)

    def coerce(self, value):
        if not _is_finite_number(value) or value != int(value) or not 0 <= value < self.rolls:
            raise ControlError(f"{self._called} must be a whole number from 0 to {self.rolls - 1}, not {shown(value)}")
        return int(value)

    def states(self):
        return list(range(self.rolls))

    def count(self):
        return self.rolls

    def index_of(self, value) -> int:
        return self.coerce(value)

    def describe(self):
        return {**super().describe(), "rolls": self.rolls}
