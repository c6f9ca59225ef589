from typing import Literal

ProcessLogGapEventType = Literal["gap"]

PROCESS_LOG_GAP_EVENT_TYPE_VALUES: set[ProcessLogGapEventType] = {
    "gap",
}


def check_process_log_gap_event_type(value: str) -> ProcessLogGapEventType:
    if value in PROCESS_LOG_GAP_EVENT_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {PROCESS_LOG_GAP_EVENT_TYPE_VALUES!r}")
