from typing import Literal

ProcessExitEventType = Literal["exit"]

PROCESS_EXIT_EVENT_TYPE_VALUES: set[ProcessExitEventType] = {
    "exit",
}


def check_process_exit_event_type(value: str) -> ProcessExitEventType:
    if value in PROCESS_EXIT_EVENT_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {PROCESS_EXIT_EVENT_TYPE_VALUES!r}")
