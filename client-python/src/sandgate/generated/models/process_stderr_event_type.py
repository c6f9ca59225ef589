from typing import Literal

ProcessStderrEventType = Literal["stderr"]

PROCESS_STDERR_EVENT_TYPE_VALUES: set[ProcessStderrEventType] = {
    "stderr",
}


def check_process_stderr_event_type(value: str) -> ProcessStderrEventType:
    if value in PROCESS_STDERR_EVENT_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {PROCESS_STDERR_EVENT_TYPE_VALUES!r}")
