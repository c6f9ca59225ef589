from typing import Literal

ExecStderrEventType = Literal["stderr"]

EXEC_STDERR_EVENT_TYPE_VALUES: set[ExecStderrEventType] = {
    "stderr",
}


def check_exec_stderr_event_type(value: str) -> ExecStderrEventType:
    if value in EXEC_STDERR_EVENT_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {EXEC_STDERR_EVENT_TYPE_VALUES!r}")
