from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.sandbox_info import SandboxInfo
    from ..models.snapshot import Snapshot


T = TypeVar("T", bound="RestoreResult")


@_attrs_define
class RestoreResult:
    """
    Attributes:
        sandbox (SandboxInfo):
        snapshot (Snapshot):
        killed_processes (int): Background processes that were killed for the restore.
    """

    sandbox: SandboxInfo
    snapshot: Snapshot
    killed_processes: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        sandbox = self.sandbox.to_dict()

        snapshot = self.snapshot.to_dict()

        killed_processes = self.killed_processes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "sandbox": sandbox,
                "snapshot": snapshot,
                "killedProcesses": killed_processes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.sandbox_info import SandboxInfo
        from ..models.snapshot import Snapshot

        d = dict(src_dict)
        sandbox = SandboxInfo.from_dict(d.pop("sandbox"))

        snapshot = Snapshot.from_dict(d.pop("snapshot"))

        killed_processes = d.pop("killedProcesses")

        restore_result = cls(
            sandbox=sandbox,
            snapshot=snapshot,
            killed_processes=killed_processes,
        )

        restore_result.additional_properties = d
        return restore_result

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
