"""Control types: what a reader can change, its bounds, and every state it can take."""

from __future__ import annotations

import math


class ControlError(ValueError):
    """A control value (a default, an author's override, or browser input) is not allowed."""


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ControlError(f"{what} must be a number, not {value!r}")
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
        """Every value the control can take, or None when it is continuous."""
        return None

    def index_of(self, value) -> int:
        return self.states().index(self.coerce(value))

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
        self.unit = unit
        super().__init__(self.min if value is None else value, label)
        self.default = self.coerce(self.default)

    def coerce(self, value):
        x = _number(value, f"'{self.name or self.label}'")
        if x < self.min - 1e-9 or x > self.max + 1e-9:
            raise ControlError(f"'{self.name or self.label}' must be between {self.min:g} and {self.max:g}, not {value!r}")
        if self.step is None:
            return _tidy(x)
        last = int(math.floor((self.max - self.min) / self.step + 1e-9))  # index of the top state, as in states()
        k = min(round((x - self.min) / self.step), last)
        return _tidy(self.min + k * self.step)

    def states(self):
        if self.step is None:
            return None
        count = int(math.floor((self.max - self.min) / self.step + 1e-9)) + 1
        return [_tidy(self.min + k * self.step) for k in range(count)]

    def describe(self):
        return {**super().describe(), "min": self.min, "max": self.max, "step": self.step, "unit": self.unit}


class Toggle(Control):
    kind = "toggle"

    def __init__(self, value: bool = False, label: str = ""):
        super().__init__(value, label)
        self.default = self.coerce(value)

    def coerce(self, value):
        if not isinstance(value, bool):
            raise ControlError(f"'{self.name or self.label}' must be true or false, not {value!r}")
        return value

    def states(self):
        return [False, True]


class Choice(Control):
    """One of a set of labelled values: ``Choice({"sgd": "SGD", "adam": "Adam"}, value="adam")``."""

    kind = "choice"

    def __init__(self, options, value=None, label: str = ""):
        pairs = list(options.items()) if isinstance(options, dict) else [(o, str(o)) for o in options]
        if not pairs:
            raise ControlError("a choice needs at least one option")
        for option, _ in pairs:
            if not isinstance(option, (str, int, float)) or isinstance(option, bool):
                raise ControlError(f"choice values must be text or numbers, not {option!r}")
        self.options = pairs
        super().__init__(pairs[0][0] if value is None else value, label)
        self.default = self.coerce(self.default)

    def coerce(self, value):
        if not isinstance(value, bool):
            for option, _ in self.options:
                if option == value and isinstance(option, str) == isinstance(value, str):
                    return option
        allowed = ", ".join(repr(o) for o, _ in self.options)
        raise ControlError(f"'{self.name or self.label}' must be one of {allowed}, not {value!r}")

    def states(self):
        return [option for option, _ in self.options]


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
        what = f"'{self.name or self.label}'"
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise ControlError(f"{what} must be a point [x, y], not {value!r}")
        px, py = _number(value[0], what + " x"), _number(value[1], what + " y")
        if not (self.x[0] - 1e-9 <= px <= self.x[1] + 1e-9 and self.y[0] - 1e-9 <= py <= self.y[1] + 1e-9):
            raise ControlError(f"{what} must lie within x {self.x[0]:g}..{self.x[1]:g} and y {self.y[0]:g}..{self.y[1]:g}, not {list(value)!r}")
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
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
                or value != int(value) or not 0 <= value < self.rolls):
            raise ControlError(f"'{self.name or self.label}' must be a whole number from 0 to {self.rolls - 1}, not {value!r}")
        return int(value)

    def states(self):
        return list(range(self.rolls))

    def describe(self):
        return {**super().describe(), "rolls": self.rolls}
