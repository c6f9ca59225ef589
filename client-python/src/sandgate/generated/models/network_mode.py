from typing import Literal

NetworkMode = Literal["egress", "none"]

NETWORK_MODE_VALUES: set[NetworkMode] = {
    "egress",
    "none",
}


def check_network_mode(value: str) -> NetworkMode:
    if value in NETWORK_MODE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {NETWORK_MODE_VALUES!r}")
