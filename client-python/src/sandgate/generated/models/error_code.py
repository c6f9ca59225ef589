from typing import Literal

ErrorCode = Literal[
    "conflict",
    "forbidden",
    "headers_too_large",
    "internal",
    "invalid_request",
    "method_not_allowed",
    "not_found",
    "not_implemented",
    "payload_too_large",
    "sandbox_unavailable",
    "timeout",
    "unauthorized",
    "unsupported_media_type",
    "upstream_unavailable",
]

ERROR_CODE_VALUES: set[ErrorCode] = {
    "conflict",
    "forbidden",
    "headers_too_large",
    "internal",
    "invalid_request",
    "method_not_allowed",
    "not_found",
    "not_implemented",
    "payload_too_large",
    "sandbox_unavailable",
    "timeout",
    "unauthorized",
    "unsupported_media_type",
    "upstream_unavailable",
}


def check_error_code(value: str) -> ErrorCode:
    if value in ERROR_CODE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {ERROR_CODE_VALUES!r}")
