from typing import Literal

ExecStreamResponse200Event = Literal["error", "exit", "stderr", "stdout"]

EXEC_STREAM_RESPONSE_200_EVENT_VALUES: set[ExecStreamResponse200Event] = {
    "error",
    "exit",
    "stderr",
    "stdout",
}


def check_exec_stream_response_200_event(value: str) -> ExecStreamResponse200Event:
    if value in EXEC_STREAM_RESPONSE_200_EVENT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {EXEC_STREAM_RESPONSE_200_EVENT_VALUES!r}")
