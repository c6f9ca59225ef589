from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.process_info import ProcessInfo


T = TypeVar("T", bound="WaitResult")


@_attrs_define
class WaitResult:
    """
    Attributes:
        process (ProcessInfo):
        elapsed_ms (float):
        line (str | Unset): wait-for-log: the matching line.
        offset (int | Unset): wait-for-log: where the matching line starts in the log.
    """

    process: ProcessInfo
    elapsed_ms: float
    line: str | Unset = UNSET
    offset: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        process = self.process.to_dict()

        elapsed_ms = self.elapsed_ms

        line = self.line

        offset = self.offset

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "process": process,
                "elapsedMs": elapsed_ms,
            }
        )
        if line is not UNSET:
            field_dict["line"] = line
        if offset is not UNSET:
            field_dict["offset"] = offset

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.process_info import ProcessInfo

        d = dict(src_dict)
        process = ProcessInfo.from_dict(d.pop("process"))

        elapsed_ms = d.pop("elapsedMs")

        line = d.pop("line", UNSET)

        offset = d.pop("offset", UNSET)

        wait_result = cls(
            process=process,
            elapsed_ms=elapsed_ms,
            line=line,
            offset=offset,
        )

        wait_result.additional_properties = d
        return wait_result

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
