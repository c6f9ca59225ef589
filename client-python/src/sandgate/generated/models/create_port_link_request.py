from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CreatePortLinkRequest")


@_attrs_define
class CreatePortLinkRequest:
    """
    Attributes:
        port (int):  Example: 8080.
        ttl_seconds (int | Unset): Lifetime of the link (default 3600 s, at most 7 days); a link minted with a scoped
            token expires no later than the token. Example: 3600.
        path (str | Unset): Where in the proxied app the link lands (default /). Example: /.
    """

    port: int
    ttl_seconds: int | Unset = UNSET
    path: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        port = self.port

        ttl_seconds = self.ttl_seconds

        path = self.path

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "port": port,
            }
        )
        if ttl_seconds is not UNSET:
            field_dict["ttlSeconds"] = ttl_seconds
        if path is not UNSET:
            field_dict["path"] = path

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        port = d.pop("port")

        ttl_seconds = d.pop("ttlSeconds", UNSET)

        path = d.pop("path", UNSET)

        create_port_link_request = cls(
            port=port,
            ttl_seconds=ttl_seconds,
            path=path,
        )

        return create_port_link_request
