from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="PortLink")


@_attrs_define
class PortLink:
    """
    Attributes:
        path (str): The link, relative to this service's origin: open it in a browser, no token needed. Example:
            /v1/sandboxes/demo/ports/8080/?sandgate_link=sgl1....
        url (None | str): The same link as an absolute URL, when the service knows its own origin.
        port (int):  Example: 8080.
        expires_at (datetime.datetime):  Example: 2026-11-22T19:30:00.000Z.
    """

    path: str
    url: None | str
    port: int
    expires_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        path = self.path

        url: None | str
        url = self.url

        port = self.port

        expires_at = self.expires_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "path": path,
                "url": url,
                "port": port,
                "expiresAt": expires_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        path = d.pop("path")

        def _parse_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        url = _parse_url(d.pop("url"))

        port = d.pop("port")

        expires_at = datetime.datetime.fromisoformat(d.pop("expiresAt"))

        port_link = cls(
            path=path,
            url=url,
            port=port,
            expires_at=expires_at,
        )

        port_link.additional_properties = d
        return port_link

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
