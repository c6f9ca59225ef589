from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.update_snapshot_request_labels import UpdateSnapshotRequestLabels


T = TypeVar("T", bound="UpdateSnapshotRequest")


@_attrs_define
class UpdateSnapshotRequest:
    """
    Attributes:
        labels (UpdateSnapshotRequestLabels | Unset): Replace all labels. Example: {'team': 'search', 'job': '42'}.
        ttl_seconds (int | None | Unset): Expire this many seconds from now; null: keep it until it is deleted.
    """

    labels: UpdateSnapshotRequestLabels | Unset = UNSET
    ttl_seconds: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        labels: dict[str, Any] | Unset = UNSET
        if not isinstance(self.labels, Unset):
            labels = self.labels.to_dict()

        ttl_seconds: int | None | Unset
        if isinstance(self.ttl_seconds, Unset):
            ttl_seconds = UNSET
        else:
            ttl_seconds = self.ttl_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if labels is not UNSET:
            field_dict["labels"] = labels
        if ttl_seconds is not UNSET:
            field_dict["ttlSeconds"] = ttl_seconds

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.update_snapshot_request_labels import UpdateSnapshotRequestLabels

        d = dict(src_dict)
        _labels = d.pop("labels", UNSET)
        labels: UpdateSnapshotRequestLabels | Unset
        if isinstance(_labels, Unset):
            labels = UNSET
        else:
            labels = UpdateSnapshotRequestLabels.from_dict(_labels)

        def _parse_ttl_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        ttl_seconds = _parse_ttl_seconds(d.pop("ttlSeconds", UNSET))

        update_snapshot_request = cls(
            labels=labels,
            ttl_seconds=ttl_seconds,
        )

        return update_snapshot_request
