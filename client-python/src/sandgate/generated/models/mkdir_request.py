from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="MkdirRequest")


@_attrs_define
class MkdirRequest:
    """
    Attributes:
        path (str): A path in the sandbox: absolute under /workspace, or relative to /workspace. One that names the
            wrong kind of file for the operation (a directory to read or write, a file to list) answers 400
            `invalid_request`. Example: /workspace/hello.txt.
        recursive (bool | Unset): Create missing parents; no error when it exists. Default: False.
    """

    path: str
    recursive: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        path = self.path

        recursive = self.recursive

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "path": path,
            }
        )
        if recursive is not UNSET:
            field_dict["recursive"] = recursive

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        path = d.pop("path")

        recursive = d.pop("recursive", UNSET)

        mkdir_request = cls(
            path=path,
            recursive=recursive,
        )

        return mkdir_request
