from typing import Literal

ProcessStdoutEventType = Literal["stdout"]

PROCESS_STDOUT_EVENT_TYPE_VALUES: set[ProcessStdoutEventType] = {
    "stdout",
}


def check_process_stdout_event_type(value: str) -> ProcessStdoutEventType:
    if value in PROCESS_STDOUT_EVENT_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {PROCESS_STDOUT_EVENT_TYPE_VALUES!r}")
