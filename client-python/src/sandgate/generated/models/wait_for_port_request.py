from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="WaitForPortRequest")


@_attrs_define
class WaitForPortRequest:
    """
    Attributes:
        port (int):  Example: 8080.
        timeout_ms (int | Unset): Give up after this many milliseconds with a `timeout` error (default 30000). Example:
            30000.
        path (str | Unset): Also wait until GET on this path answers `status` (default: any TCP accept is enough).
            Example: /health.
        status (int | Unset): The HTTP status `path` must answer (default: any 2xx or 3xx).
    """

    port: int
    timeout_ms: int | Unset = UNSET
    path: str | Unset = UNSET
    status: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        port = self.port

        timeout_ms = self.timeout_ms

        path = self.path

        status = self.status

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "port": port,
            }
        )
        if timeout_ms is not UNSET:
            field_dict["timeoutMs"] = timeout_ms
        if path is not UNSET:
            field_dict["path"] = path
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        port = d.pop("port")

        timeout_ms = d.pop("timeoutMs", UNSET)

        path = d.pop("path", UNSET)

        status = d.pop("status", UNSET)

        wait_for_port_request = cls(
            port=port,
            timeout_ms=timeout_ms,
            path=path,
            status=status,
        )

        return wait_for_port_request
