from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.network_mode import NetworkMode, check_network_mode
from ..models.sandbox_status import SandboxStatus, check_sandbox_status

if TYPE_CHECKING:
    from ..models.sandbox_info_labels import SandboxInfoLabels


T = TypeVar("T", bound="SandboxInfo")


@_attrs_define
class SandboxInfo:
    """
    Attributes:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        instance (str): Set when the sandbox is created and never again: a sandbox deleted and re-created under the same
            id has a new one. Scoped tokens and port links are bound to it and stop working when it changes. Example:
            i-3k2j9x7wq4m5n6p7r8s9.
        status (SandboxStatus): `ready`: accepts work now; `sleeping`: its container is stopped and wakes on the next
            call; `unavailable`: its runtime cannot be reached.
        network (NetworkMode): `egress` (the default): the sandbox may open connections to the internet, never to the
            host or other sandboxes; `none`: it has no network beyond its own ports, which the port proxy still reaches.
        created_at (datetime.datetime):  Example: 2026-11-22T19:30:00.000Z.
        expires_at (datetime.datetime):  Example: 2026-11-22T19:30:00.000Z.
        labels (SandboxInfoLabels):
    """

    id: str
    instance: str
    status: SandboxStatus
    network: NetworkMode
    created_at: datetime.datetime
    expires_at: datetime.datetime
    labels: SandboxInfoLabels
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        instance = self.instance

        status: str = self.status

        network: str = self.network

        created_at = self.created_at.isoformat()

        expires_at = self.expires_at.isoformat()

        labels = self.labels.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "instance": instance,
                "status": status,
                "network": network,
                "createdAt": created_at,
                "expiresAt": expires_at,
                "labels": labels,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.sandbox_info_labels import SandboxInfoLabels

        d = dict(src_dict)
        id = d.pop("id")

        instance = d.pop("instance")

        status = check_sandbox_status(d.pop("status"))

        network = check_network_mode(d.pop("network"))

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        expires_at = datetime.datetime.fromisoformat(d.pop("expiresAt"))

        labels = SandboxInfoLabels.from_dict(d.pop("labels"))

        sandbox_info = cls(
            id=id,
            instance=instance,
            status=status,
            network=network,
            created_at=created_at,
            expires_at=expires_at,
            labels=labels,
        )

        sandbox_info.additional_properties = d
        return sandbox_info

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
