from typing import Literal

ExecStdoutEventType = Literal["stdout"]

EXEC_STDOUT_EVENT_TYPE_VALUES: set[ExecStdoutEventType] = {
    "stdout",
}


def check_exec_stdout_event_type(value: str) -> ExecStdoutEventType:
    if value in EXEC_STDOUT_EVENT_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {EXEC_STDOUT_EVENT_TYPE_VALUES!r}")
