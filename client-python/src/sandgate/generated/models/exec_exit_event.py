from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.exec_exit_event_type import ExecExitEventType, check_exec_exit_event_type

T = TypeVar("T", bound="ExecExitEvent")


@_attrs_define
class ExecExitEvent:
    """The command ended; always the last event of a successful stream.

    Attributes:
        type_ (ExecExitEventType):
        exit_code (int):
        duration_ms (float):
        timed_out (bool):
    """

    type_: ExecExitEventType
    exit_code: int
    duration_ms: float
    timed_out: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_: str = self.type_

        exit_code = self.exit_code

        duration_ms = self.duration_ms

        timed_out = self.timed_out

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "exitCode": exit_code,
                "durationMs": duration_ms,
                "timedOut": timed_out,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        type_ = check_exec_exit_event_type(d.pop("type"))

        exit_code = d.pop("exitCode")

        duration_ms = d.pop("durationMs")

        timed_out = d.pop("timedOut")

        exec_exit_event = cls(
            type_=type_,
            exit_code=exit_code,
            duration_ms=duration_ms,
            timed_out=timed_out,
        )

        exec_exit_event.additional_properties = d
        return exec_exit_event

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
