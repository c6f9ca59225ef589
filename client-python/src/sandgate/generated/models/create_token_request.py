from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.scope import Scope, check_scope
from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateTokenRequest")


@_attrs_define
class CreateTokenRequest:
    """
    Attributes:
        sandbox_id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        scopes (list[Scope]):  Example: ['exec', 'files:read'].
        ttl_seconds (int | Unset): Lifetime (default 3600 s, at most 30 days). Example: 3600.
    """

    sandbox_id: str
    scopes: list[Scope]
    ttl_seconds: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        sandbox_id = self.sandbox_id

        scopes = []
        for scopes_item_data in self.scopes:
            scopes_item: str = scopes_item_data
            scopes.append(scopes_item)

        ttl_seconds = self.ttl_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "sandboxId": sandbox_id,
                "scopes": scopes,
            }
        )
        if ttl_seconds is not UNSET:
            field_dict["ttlSeconds"] = ttl_seconds

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        sandbox_id = d.pop("sandboxId")

        scopes = []
        _scopes = d.pop("scopes")
        for scopes_item_data in _scopes:
            scopes_item = check_scope(scopes_item_data)

            scopes.append(scopes_item)

        ttl_seconds = d.pop("ttlSeconds", UNSET)

        create_token_request = cls(
            sandbox_id=sandbox_id,
            scopes=scopes,
            ttl_seconds=ttl_seconds,
        )

        return create_token_request
