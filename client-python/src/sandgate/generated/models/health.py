from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.health_snapshots import HealthSnapshots


T = TypeVar("T", bound="Health")


@_attrs_define
class Health:
    """
    Attributes:
        ok (bool):
        version (str):  Example: 0.1.0.
        backend (str):  Example: local.
        snapshots (HealthSnapshots | Unset): Snapshot storage on this host (backends that keep snapshots).
    """

    ok: bool
    version: str
    backend: str
    snapshots: HealthSnapshots | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        ok = self.ok

        version = self.version

        backend = self.backend

        snapshots: dict[str, Any] | Unset = UNSET
        if not isinstance(self.snapshots, Unset):
            snapshots = self.snapshots.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "ok": ok,
                "version": version,
                "backend": backend,
            }
        )
        if snapshots is not UNSET:
            field_dict["snapshots"] = snapshots

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.health_snapshots import HealthSnapshots

        d = dict(src_dict)
        ok = d.pop("ok")

        version = d.pop("version")

        backend = d.pop("backend")

        _snapshots = d.pop("snapshots", UNSET)
        snapshots: HealthSnapshots | Unset
        if isinstance(_snapshots, Unset):
            snapshots = UNSET
        else:
            snapshots = HealthSnapshots.from_dict(_snapshots)

        health = cls(
            ok=ok,
            version=version,
            backend=backend,
            snapshots=snapshots,
        )

        health.additional_properties = d
        return health

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
