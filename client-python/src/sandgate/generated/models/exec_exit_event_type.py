from typing import Literal

ExecExitEventType = Literal["exit"]

EXEC_EXIT_EVENT_TYPE_VALUES: set[ExecExitEventType] = {
    "exit",
}


def check_exec_exit_event_type(value: str) -> ExecExitEventType:
    if value in EXEC_EXIT_EVENT_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {EXEC_EXIT_EVENT_TYPE_VALUES!r}")
