from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.process_exit_event_type import (
    ProcessExitEventType,
    check_process_exit_event_type,
)
from ..models.process_status import ProcessStatus, check_process_status

T = TypeVar("T", bound="ProcessExitEvent")


@_attrs_define
class ProcessExitEvent:
    """The process ended and every byte of its output was sent; always last.

    Attributes:
        type_ (ProcessExitEventType):
        status (ProcessStatus): `running`; `exited`: ended by itself (see exitCode); `killed`: ended by a kill request
            or its sandbox's deletion; `lost`: the host restarted while it ran, so how it ended is unknown.
        exit_code (int | None):
        next_offset (int):
    """

    type_: ProcessExitEventType
    status: ProcessStatus
    exit_code: int | None
    next_offset: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_: str = self.type_

        status: str = self.status

        exit_code: int | None
        exit_code = self.exit_code

        next_offset = self.next_offset

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "status": status,
                "exitCode": exit_code,
                "nextOffset": next_offset,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        type_ = check_process_exit_event_type(d.pop("type"))

        status = check_process_status(d.pop("status"))

        def _parse_exit_code(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        exit_code = _parse_exit_code(d.pop("exitCode"))

        next_offset = d.pop("nextOffset")

        process_exit_event = cls(
            type_=type_,
            status=status,
            exit_code=exit_code,
            next_offset=next_offset,
        )

        process_exit_event.additional_properties = d
        return process_exit_event

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
