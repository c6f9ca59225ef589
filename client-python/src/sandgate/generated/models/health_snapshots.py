from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="HealthSnapshots")


@_attrs_define
class HealthSnapshots:
    """Snapshot storage on this host (backends that keep snapshots).

    Attributes:
        count (int): Snapshots kept.
        blobs (int): Distinct file contents stored for them.
        stored_bytes (int): Bytes those contents take.
    """

    count: int
    blobs: int
    stored_bytes: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        count = self.count

        blobs = self.blobs

        stored_bytes = self.stored_bytes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "count": count,
                "blobs": blobs,
                "storedBytes": stored_bytes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        count = d.pop("count")

        blobs = d.pop("blobs")

        stored_bytes = d.pop("storedBytes")

        health_snapshots = cls(
            count=count,
            blobs=blobs,
            stored_bytes=stored_bytes,
        )

        health_snapshots.additional_properties = d
        return health_snapshots

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
