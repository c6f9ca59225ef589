from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.encoding import Encoding, check_encoding
from ..types import UNSET, Unset

T = TypeVar("T", bound="WriteFileRequest")


@_attrs_define
class WriteFileRequest:
    """
    Attributes:
        path (str): A path in the sandbox: absolute under /workspace, or relative to /workspace. One that names the
            wrong kind of file for the operation (a directory to read or write, a file to list) answers 400
            `invalid_request`. Example: /workspace/hello.txt.
        content (str): The file's bytes, as text or base64 per `encoding`.
        encoding (Encoding | Unset): How `content` is encoded in JSON: text as-is, or any bytes as base64.
    """

    path: str
    content: str
    encoding: Encoding | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        path = self.path

        content = self.content

        encoding: str | Unset = UNSET
        if not isinstance(self.encoding, Unset):
            encoding = self.encoding

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "path": path,
                "content": content,
            }
        )
        if encoding is not UNSET:
            field_dict["encoding"] = encoding

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        path = d.pop("path")

        content = d.pop("content")

        _encoding = d.pop("encoding", UNSET)
        encoding: Encoding | Unset
        if isinstance(_encoding, Unset):
            encoding = UNSET
        else:
            encoding = check_encoding(_encoding)

        write_file_request = cls(
            path=path,
            content=content,
            encoding=encoding,
        )

        return write_file_request
