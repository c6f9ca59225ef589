from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.snapshot_labels import SnapshotLabels


T = TypeVar("T", bound="ForkResultSnapshot")


@_attrs_define
class ForkResultSnapshot:
    """
    Attributes:
        id (str): Snapshot id. Example: snap-4k2xq7w9m3p5r8ta.
        sandbox_id (None | str): The sandbox it was taken of; null for an imported archive. Example: demo.
        name (None | str):
        labels (SnapshotLabels):
        created_at (datetime.datetime):  Example: 2026-11-22T19:30:00.000Z.
        expires_at (datetime.datetime | None): When it is deleted; null: kept until deleted. Example:
            2026-11-22T19:30:00.000Z.
        file_count (int): Entries: regular files, directories and symlinks.
        size_bytes (int): Logical size: the bytes of its regular files.
        stored_bytes (int): Bytes this snapshot added to storage when it was made (content already stored is not stored
            again).
        digest (str): `sha256:` of the snapshot's canonical manifest: equal digests, equal trees.
    """

    id: str
    sandbox_id: None | str
    name: None | str
    labels: SnapshotLabels
    created_at: datetime.datetime
    expires_at: datetime.datetime | None
    file_count: int
    size_bytes: int
    stored_bytes: int
    digest: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        sandbox_id: None | str
        sandbox_id = self.sandbox_id

        name: None | str
        name = self.name

        labels = self.labels.to_dict()

        created_at = self.created_at.isoformat()

        expires_at: None | str
        if isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at

        file_count = self.file_count

        size_bytes = self.size_bytes

        stored_bytes = self.stored_bytes

        digest = self.digest

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "sandboxId": sandbox_id,
                "name": name,
                "labels": labels,
                "createdAt": created_at,
                "expiresAt": expires_at,
                "fileCount": file_count,
                "sizeBytes": size_bytes,
                "storedBytes": stored_bytes,
                "digest": digest,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.snapshot_labels import SnapshotLabels

        d = dict(src_dict)
        id = d.pop("id")

        def _parse_sandbox_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        sandbox_id = _parse_sandbox_id(d.pop("sandboxId"))

        def _parse_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        name = _parse_name(d.pop("name"))

        labels = SnapshotLabels.from_dict(d.pop("labels"))

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        def _parse_expires_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        expires_at = _parse_expires_at(d.pop("expiresAt"))

        file_count = d.pop("fileCount")

        size_bytes = d.pop("sizeBytes")

        stored_bytes = d.pop("storedBytes")

        digest = d.pop("digest")

        fork_result_snapshot = cls(
            id=id,
            sandbox_id=sandbox_id,
            name=name,
            labels=labels,
            created_at=created_at,
            expires_at=expires_at,
            file_count=file_count,
            size_bytes=size_bytes,
            stored_bytes=stored_bytes,
            digest=digest,
        )

        fork_result_snapshot.additional_properties = d
        return fork_result_snapshot

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
