from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.wait_for_log_request_stream import (
    WaitForLogRequestStream,
    check_wait_for_log_request_stream,
)
from ..types import UNSET, Unset

T = TypeVar("T", bound="WaitForLogRequest")


@_attrs_define
class WaitForLogRequest:
    """
    Attributes:
        pattern (str): A JavaScript regular expression matched against each line of output. One that does not compile
            answers 400 `invalid_request`. Example: listening on.
        stream (WaitForLogRequestStream | Unset): Which output to search (default both).
        timeout_ms (int | Unset): Give up after this many milliseconds with a `timeout` error (default 30000). Example:
            30000.
    """

    pattern: str
    stream: WaitForLogRequestStream | Unset = UNSET
    timeout_ms: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        pattern = self.pattern

        stream: str | Unset = UNSET
        if not isinstance(self.stream, Unset):
            stream = self.stream

        timeout_ms = self.timeout_ms

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "pattern": pattern,
            }
        )
        if stream is not UNSET:
            field_dict["stream"] = stream
        if timeout_ms is not UNSET:
            field_dict["timeoutMs"] = timeout_ms

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        pattern = d.pop("pattern")

        _stream = d.pop("stream", UNSET)
        stream: WaitForLogRequestStream | Unset
        if isinstance(_stream, Unset):
            stream = UNSET
        else:
            stream = check_wait_for_log_request_stream(_stream)

        timeout_ms = d.pop("timeoutMs", UNSET)

        wait_for_log_request = cls(
            pattern=pattern,
            stream=stream,
            timeout_ms=timeout_ms,
        )

        return wait_for_log_request
