from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.process_stdout_event_type import (
    ProcessStdoutEventType,
    check_process_stdout_event_type,
)

T = TypeVar("T", bound="ProcessStdoutEvent")


@_attrs_define
class ProcessStdoutEvent:
    """Output; reconnect with `offset=nextOffset` to continue after it.

    Attributes:
        type_ (ProcessStdoutEventType):
        data (str):
        offset (int):
        next_offset (int):
    """

    type_: ProcessStdoutEventType
    data: str
    offset: int
    next_offset: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_: str = self.type_

        data = self.data

        offset = self.offset

        next_offset = self.next_offset

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "data": data,
                "offset": offset,
                "nextOffset": next_offset,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        type_ = check_process_stdout_event_type(d.pop("type"))

        data = d.pop("data")

        offset = d.pop("offset")

        next_offset = d.pop("nextOffset")

        process_stdout_event = cls(
            type_=type_,
            data=data,
            offset=offset,
            next_offset=next_offset,
        )

        process_stdout_event.additional_properties = d
        return process_stdout_event

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
