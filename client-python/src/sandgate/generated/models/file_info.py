from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.file_type import FileType, check_file_type

T = TypeVar("T", bound="FileInfo")


@_attrs_define
class FileInfo:
    """
    Attributes:
        path (str): Absolute path in the sandbox. Example: /workspace/hello.txt.
        name (str):  Example: hello.txt.
        type_ (FileType):
        size (int): Size in bytes.
        mode (int): Permission bits (e.g. 420 = 0o644). Example: 420.
        modified_at (datetime.datetime):  Example: 2026-11-22T19:30:00.000Z.
    """

    path: str
    name: str
    type_: FileType
    size: int
    mode: int
    modified_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        path = self.path

        name = self.name

        type_: str = self.type_

        size = self.size

        mode = self.mode

        modified_at = self.modified_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "path": path,
                "name": name,
                "type": type_,
                "size": size,
                "mode": mode,
                "modifiedAt": modified_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        path = d.pop("path")

        name = d.pop("name")

        type_ = check_file_type(d.pop("type"))

        size = d.pop("size")

        mode = d.pop("mode")

        modified_at = datetime.datetime.fromisoformat(d.pop("modifiedAt"))

        file_info = cls(
            path=path,
            name=name,
            type_=type_,
            size=size,
            mode=mode,
            modified_at=modified_at,
        )

        file_info.additional_properties = d
        return file_info

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
