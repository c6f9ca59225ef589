from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="RestoreRequest")


@_attrs_define
class RestoreRequest:
    """
    Attributes:
        snapshot_id (str): Snapshot id. Example: snap-4k2xq7w9m3p5r8ta.
        kill_processes (bool | Unset): Kill running background processes first; without it a restore while any run
            answers 409.
    """

    snapshot_id: str
    kill_processes: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        snapshot_id = self.snapshot_id

        kill_processes = self.kill_processes

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "snapshotId": snapshot_id,
            }
        )
        if kill_processes is not UNSET:
            field_dict["killProcesses"] = kill_processes

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        snapshot_id = d.pop("snapshotId")

        kill_processes = d.pop("killProcesses", UNSET)

        restore_request = cls(
            snapshot_id=snapshot_id,
            kill_processes=kill_processes,
        )

        return restore_request
