from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.compat_download_request_encoding import (
    CompatDownloadRequestEncoding,
    check_compat_download_request_encoding,
)
from ..types import UNSET, Unset

T = TypeVar("T", bound="CompatDownloadRequest")


@_attrs_define
class CompatDownloadRequest:
    """
    Attributes:
        file_path (str): A path in the sandbox: absolute under /workspace, or relative to /workspace. One that names the
            wrong kind of file for the operation (a directory to read or write, a file to list) answers 400
            `invalid_request`. Example: /workspace/hello.txt.
        encoding (CompatDownloadRequestEncoding | Unset):  Default: 'utf-8'.
    """

    file_path: str
    encoding: CompatDownloadRequestEncoding | Unset = "utf-8"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        file_path = self.file_path

        encoding: str | Unset = UNSET
        if not isinstance(self.encoding, Unset):
            encoding = self.encoding

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "file_path": file_path,
            }
        )
        if encoding is not UNSET:
            field_dict["encoding"] = encoding

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        file_path = d.pop("file_path")

        _encoding = d.pop("encoding", UNSET)
        encoding: CompatDownloadRequestEncoding | Unset
        if isinstance(_encoding, Unset):
            encoding = UNSET
        else:
            encoding = check_compat_download_request_encoding(_encoding)

        compat_download_request = cls(
            file_path=file_path,
            encoding=encoding,
        )

        compat_download_request.additional_properties = d
        return compat_download_request

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
