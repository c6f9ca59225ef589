from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="CompatExecRequest")


@_attrs_define
class CompatExecRequest:
    """
    Attributes:
        command (str): A shell command line: at most 131071 bytes of UTF-8 (Linux's limit on one argument).
        keepalive_seconds (int | Unset):
    """

    command: str
    keepalive_seconds: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        command = self.command

        keepalive_seconds = self.keepalive_seconds

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "command": command,
            }
        )
        if keepalive_seconds is not UNSET:
            field_dict["keepalive_seconds"] = keepalive_seconds

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        command = d.pop("command")

        keepalive_seconds = d.pop("keepalive_seconds", UNSET)

        compat_exec_request = cls(
            command=command,
            keepalive_seconds=keepalive_seconds,
        )

        compat_exec_request.additional_properties = d
        return compat_exec_request

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
