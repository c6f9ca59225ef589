from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.sandbox_info import SandboxInfo
    from ..models.snapshot import Snapshot


T = TypeVar("T", bound="ForkResult")


@_attrs_define
class ForkResult:
    """`snapshot`: the snapshot they were made from, when `keepSnapshot` was true (absent otherwise: it was deleted).

    Attributes:
        sandboxes (list[SandboxInfo]): The new sandboxes, each with the source's workspace as it was at one moment.
        snapshot (Snapshot | Unset):
    """

    sandboxes: list[SandboxInfo]
    snapshot: Snapshot | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        sandboxes = []
        for sandboxes_item_data in self.sandboxes:
            sandboxes_item = sandboxes_item_data.to_dict()
            sandboxes.append(sandboxes_item)

        snapshot: dict[str, Any] | Unset = UNSET
        if not isinstance(self.snapshot, Unset):
            snapshot = self.snapshot.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "sandboxes": sandboxes,
            }
        )
        if snapshot is not UNSET:
            field_dict["snapshot"] = snapshot

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.sandbox_info import SandboxInfo
        from ..models.snapshot import Snapshot

        d = dict(src_dict)
        sandboxes = []
        _sandboxes = d.pop("sandboxes")
        for sandboxes_item_data in _sandboxes:
            sandboxes_item = SandboxInfo.from_dict(sandboxes_item_data)

            sandboxes.append(sandboxes_item)

        _snapshot = d.pop("snapshot", UNSET)
        snapshot: Snapshot | Unset
        if isinstance(_snapshot, Unset):
            snapshot = UNSET
        else:
            snapshot = Snapshot.from_dict(_snapshot)

        fork_result = cls(
            sandboxes=sandboxes,
            snapshot=snapshot,
        )

        fork_result.additional_properties = d
        return fork_result

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
