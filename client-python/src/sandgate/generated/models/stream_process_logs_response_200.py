from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.stream_process_logs_response_200_event import (
    StreamProcessLogsResponse200Event,
    check_stream_process_logs_response_200_event,
)

T = TypeVar("T", bound="StreamProcessLogsResponse200")


@_attrs_define
class StreamProcessLogsResponse200:
    """
    Attributes:
        event (StreamProcessLogsResponse200Event): The event's name: the `type` of its data.
        data (str): The event object, as JSON.
    """

    event: StreamProcessLogsResponse200Event
    data: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        event: str = self.event

        data = self.data

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "event": event,
                "data": data,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        event = check_stream_process_logs_response_200_event(d.pop("event"))

        data = d.pop("data")

        stream_process_logs_response_200 = cls(
            event=event,
            data=data,
        )

        stream_process_logs_response_200.additional_properties = d
        return stream_process_logs_response_200

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
