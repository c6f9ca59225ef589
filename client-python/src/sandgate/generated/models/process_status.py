from typing import Literal

ProcessStatus = Literal["exited", "killed", "lost", "running"]

PROCESS_STATUS_VALUES: set[ProcessStatus] = {
    "exited",
    "killed",
    "lost",
    "running",
}


def check_process_status(value: str) -> ProcessStatus:
    if value in PROCESS_STATUS_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {PROCESS_STATUS_VALUES!r}")
