from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.create_snapshot_request_labels import CreateSnapshotRequestLabels


T = TypeVar("T", bound="CreateSnapshotRequest")


@_attrs_define
class CreateSnapshotRequest:
    """
    Attributes:
        name (str | Unset):
        labels (CreateSnapshotRequestLabels | Unset): Key/value labels for finding sandboxes later. Example: {'team':
            'search', 'job': '42'}.
        excludes (list[str] | Unset): Left out of the snapshot: globs relative to /workspace.
        ttl_seconds (int | Unset): Delete the snapshot this many seconds from now (default: kept until deleted).
    """

    name: str | Unset = UNSET
    labels: CreateSnapshotRequestLabels | Unset = UNSET
    excludes: list[str] | Unset = UNSET
    ttl_seconds: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        labels: dict[str, Any] | Unset = UNSET
        if not isinstance(self.labels, Unset):
            labels = self.labels.to_dict()

        excludes: list[str] | Unset = UNSET
        if not isinstance(self.excludes, Unset):
            excludes = self.excludes

        ttl_seconds = self.ttl_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if labels is not UNSET:
            field_dict["labels"] = labels
        if excludes is not UNSET:
            field_dict["excludes"] = excludes
        if ttl_seconds is not UNSET:
            field_dict["ttlSeconds"] = ttl_seconds

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.create_snapshot_request_labels import CreateSnapshotRequestLabels

        d = dict(src_dict)
        name = d.pop("name", UNSET)

        _labels = d.pop("labels", UNSET)
        labels: CreateSnapshotRequestLabels | Unset
        if isinstance(_labels, Unset):
            labels = UNSET
        else:
            labels = CreateSnapshotRequestLabels.from_dict(_labels)

        excludes = cast(list[str], d.pop("excludes", UNSET))

        ttl_seconds = d.pop("ttlSeconds", UNSET)

        create_snapshot_request = cls(
            name=name,
            labels=labels,
            excludes=excludes,
            ttl_seconds=ttl_seconds,
        )

        return create_snapshot_request
