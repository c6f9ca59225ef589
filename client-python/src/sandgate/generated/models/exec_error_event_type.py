from typing import Literal

ExecErrorEventType = Literal["error"]

EXEC_ERROR_EVENT_TYPE_VALUES: set[ExecErrorEventType] = {
    "error",
}


def check_exec_error_event_type(value: str) -> ExecErrorEventType:
    if value in EXEC_ERROR_EVENT_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {EXEC_ERROR_EVENT_TYPE_VALUES!r}")
