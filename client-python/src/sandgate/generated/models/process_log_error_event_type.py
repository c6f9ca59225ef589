from typing import Literal

ProcessLogErrorEventType = Literal["error"]

PROCESS_LOG_ERROR_EVENT_TYPE_VALUES: set[ProcessLogErrorEventType] = {
    "error",
}


def check_process_log_error_event_type(value: str) -> ProcessLogErrorEventType:
    if value in PROCESS_LOG_ERROR_EVENT_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {PROCESS_LOG_ERROR_EVENT_TYPE_VALUES!r}")
