from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="MoveFileRequest")


@_attrs_define
class MoveFileRequest:
    """
    Attributes:
        from_ (str): A path in the sandbox: absolute under /workspace, or relative to /workspace. One that names the
            wrong kind of file for the operation (a directory to read or write, a file to list) answers 400
            `invalid_request`. Example: /workspace/hello.txt.
        to (str): A path in the sandbox: absolute under /workspace, or relative to /workspace. One that names the wrong
            kind of file for the operation (a directory to read or write, a file to list) answers 400 `invalid_request`.
            Example: /workspace/hello.txt.
        overwrite (bool | Unset): Replace an existing file at `to`. Default: False.
    """

    from_: str
    to: str
    overwrite: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        from_ = self.from_

        to = self.to

        overwrite = self.overwrite

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "from": from_,
                "to": to,
            }
        )
        if overwrite is not UNSET:
            field_dict["overwrite"] = overwrite

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        from_ = d.pop("from")

        to = d.pop("to")

        overwrite = d.pop("overwrite", UNSET)

        move_file_request = cls(
            from_=from_,
            to=to,
            overwrite=overwrite,
        )

        return move_file_request
