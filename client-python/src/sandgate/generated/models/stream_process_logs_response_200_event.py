from typing import Literal

StreamProcessLogsResponse200Event = Literal["error", "exit", "gap", "stderr", "stdout"]

STREAM_PROCESS_LOGS_RESPONSE_200_EVENT_VALUES: set[StreamProcessLogsResponse200Event] = {
    "error",
    "exit",
    "gap",
    "stderr",
    "stdout",
}


def check_stream_process_logs_response_200_event(value: str) -> StreamProcessLogsResponse200Event:
    if value in STREAM_PROCESS_LOGS_RESPONSE_200_EVENT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {STREAM_PROCESS_LOGS_RESPONSE_200_EVENT_VALUES!r}")
