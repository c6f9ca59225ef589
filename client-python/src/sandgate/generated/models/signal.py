from typing import Literal

Signal = Literal["HUP", "INT", "KILL", "QUIT", "TERM", "USR1", "USR2"]

SIGNAL_VALUES: set[Signal] = {
    "HUP",
    "INT",
    "KILL",
    "QUIT",
    "TERM",
    "USR1",
    "USR2",
}


def check_signal(value: str) -> Signal:
    if value in SIGNAL_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {SIGNAL_VALUES!r}")
