from typing import Literal

LogChunkStream = Literal["stderr", "stdout"]

LOG_CHUNK_STREAM_VALUES: set[LogChunkStream] = {
    "stderr",
    "stdout",
}


def check_log_chunk_stream(value: str) -> LogChunkStream:
    if value in LOG_CHUNK_STREAM_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {LOG_CHUNK_STREAM_VALUES!r}")
