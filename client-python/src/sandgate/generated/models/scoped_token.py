from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.scope import Scope, check_scope

T = TypeVar("T", bound="ScopedToken")


@_attrs_define
class ScopedToken:
    """
    Attributes:
        token (str): Send as `Authorization: Bearer <token>`; it works only on its sandbox and scopes, until it expires.
        sandbox_id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        scopes (list[Scope]):
        expires_at (datetime.datetime):  Example: 2026-11-22T19:30:00.000Z.
    """

    token: str
    sandbox_id: str
    scopes: list[Scope]
    expires_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        token = self.token

        sandbox_id = self.sandbox_id

        scopes = []
        for scopes_item_data in self.scopes:
            scopes_item: str = scopes_item_data
            scopes.append(scopes_item)

        expires_at = self.expires_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "token": token,
                "sandboxId": sandbox_id,
                "scopes": scopes,
                "expiresAt": expires_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        token = d.pop("token")

        sandbox_id = d.pop("sandboxId")

        scopes = []
        _scopes = d.pop("scopes")
        for scopes_item_data in _scopes:
            scopes_item = check_scope(scopes_item_data)

            scopes.append(scopes_item)

        expires_at = datetime.datetime.fromisoformat(d.pop("expiresAt"))

        scoped_token = cls(
            token=token,
            sandbox_id=sandbox_id,
            scopes=scopes,
            expires_at=expires_at,
        )

        scoped_token.additional_properties = d
        return scoped_token

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
