from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.encoding import Encoding, check_encoding
from ..types import UNSET, Unset

T = TypeVar("T", bound="ReadFileRequest")


@_attrs_define
class ReadFileRequest:
    """
    Attributes:
        path (str): A path in the sandbox: absolute under /workspace, or relative to /workspace. One that names the
            wrong kind of file for the operation (a directory to read or write, a file to list) answers 400
            `invalid_request`. Example: /workspace/hello.txt.
        encoding (Encoding | Unset): How `content` is encoded in JSON: text as-is, or any bytes as base64.
    """

    path: str
    encoding: Encoding | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        path = self.path

        encoding: str | Unset = UNSET
        if not isinstance(self.encoding, Unset):
            encoding = self.encoding

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "path": path,
            }
        )
        if encoding is not UNSET:
            field_dict["encoding"] = encoding

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        path = d.pop("path")

        _encoding = d.pop("encoding", UNSET)
        encoding: Encoding | Unset
        if isinstance(_encoding, Unset):
            encoding = UNSET
        else:
            encoding = check_encoding(_encoding)

        read_file_request = cls(
            path=path,
            encoding=encoding,
        )

        return read_file_request
