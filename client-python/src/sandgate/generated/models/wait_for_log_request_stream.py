from typing import Literal

WaitForLogRequestStream = Literal["both", "stderr", "stdout"]

WAIT_FOR_LOG_REQUEST_STREAM_VALUES: set[WaitForLogRequestStream] = {
    "both",
    "stderr",
    "stdout",
}


def check_wait_for_log_request_stream(value: str) -> WaitForLogRequestStream:
    if value in WAIT_FOR_LOG_REQUEST_STREAM_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {WAIT_FOR_LOG_REQUEST_STREAM_VALUES!r}")
