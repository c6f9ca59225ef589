from typing import Literal

SandboxStatus = Literal["ready", "sleeping", "unavailable"]

SANDBOX_STATUS_VALUES: set[SandboxStatus] = {
    "ready",
    "sleeping",
    "unavailable",
}


def check_sandbox_status(value: str) -> SandboxStatus:
    if value in SANDBOX_STATUS_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {SANDBOX_STATUS_VALUES!r}")
