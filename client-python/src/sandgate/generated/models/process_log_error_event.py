from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.process_log_error_event_type import (
    ProcessLogErrorEventType,
    check_process_log_error_event_type,
)

T = TypeVar("T", bound="ProcessLogErrorEvent")


@_attrs_define
class ProcessLogErrorEvent:
    """
    Attributes:
        type_ (ProcessLogErrorEventType):
        code (str):
        message (str):
    """

    type_: ProcessLogErrorEventType
    code: str
    message: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_: str = self.type_

        code = self.code

        message = self.message

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "code": code,
                "message": message,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        type_ = check_process_log_error_event_type(d.pop("type"))

        code = d.pop("code")

        message = d.pop("message")

        process_log_error_event = cls(
            type_=type_,
            code=code,
            message=message,
        )

        process_log_error_event.additional_properties = d
        return process_log_error_event

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
