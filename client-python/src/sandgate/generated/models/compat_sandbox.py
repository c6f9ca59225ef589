from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.compat_sandbox_sandbox_status import (
    CompatSandboxSandboxStatus,
    check_compat_sandbox_sandbox_status,
)

T = TypeVar("T", bound="CompatSandbox")


@_attrs_define
class CompatSandbox:
    """
    Attributes:
        sandbox_id (str):
        sandbox_status (CompatSandboxSandboxStatus):
        sandbox_created_at (str):  Example: 2025-01-15T10:00:00.000Z.
        sandbox_expires_at (None | str):  Example: 2025-01-15T10:30:00.000Z.
    """

    sandbox_id: str
    sandbox_status: CompatSandboxSandboxStatus
    sandbox_created_at: str
    sandbox_expires_at: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        sandbox_id = self.sandbox_id

        sandbox_status: str = self.sandbox_status

        sandbox_created_at = self.sandbox_created_at

        sandbox_expires_at: None | str
        sandbox_expires_at = self.sandbox_expires_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "sandbox_id": sandbox_id,
                "sandbox_status": sandbox_status,
                "sandbox_created_at": sandbox_created_at,
                "sandbox_expires_at": sandbox_expires_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        sandbox_id = d.pop("sandbox_id")

        sandbox_status = check_compat_sandbox_sandbox_status(d.pop("sandbox_status"))

        sandbox_created_at = d.pop("sandbox_created_at")

        def _parse_sandbox_expires_at(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        sandbox_expires_at = _parse_sandbox_expires_at(d.pop("sandbox_expires_at"))

        compat_sandbox = cls(
            sandbox_id=sandbox_id,
            sandbox_status=sandbox_status,
            sandbox_created_at=sandbox_created_at,
            sandbox_expires_at=sandbox_expires_at,
        )

        compat_sandbox.additional_properties = d
        return compat_sandbox

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
