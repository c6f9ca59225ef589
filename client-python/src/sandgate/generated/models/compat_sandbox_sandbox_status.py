from typing import Literal

CompatSandboxSandboxStatus = Literal["running", "sleeping", "unavailable"]

COMPAT_SANDBOX_SANDBOX_STATUS_VALUES: set[CompatSandboxSandboxStatus] = {
    "running",
    "sleeping",
    "unavailable",
}


def check_compat_sandbox_sandbox_status(value: str) -> CompatSandboxSandboxStatus:
    if value in COMPAT_SANDBOX_SANDBOX_STATUS_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {COMPAT_SANDBOX_SANDBOX_STATUS_VALUES!r}")
