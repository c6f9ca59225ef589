from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.compat_download_result_encoding import (
    CompatDownloadResultEncoding,
    check_compat_download_result_encoding,
)

T = TypeVar("T", bound="CompatDownloadResult")


@_attrs_define
class CompatDownloadResult:
    """
    Attributes:
        content (str):
        encoding (CompatDownloadResultEncoding):
    """

    content: str
    encoding: CompatDownloadResultEncoding
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        content = self.content

        encoding: str = self.encoding

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "content": content,
                "encoding": encoding,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        content = d.pop("content")

        encoding = check_compat_download_result_encoding(d.pop("encoding"))

        compat_download_result = cls(
            content=content,
            encoding=encoding,
        )

        compat_download_result.additional_properties = d
        return compat_download_result

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
