from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.process_status import ProcessStatus, check_process_status

T = TypeVar("T", bound="ProcessInfo")


@_attrs_define
class ProcessInfo:
    """
    Attributes:
        id (str): Process id, unique within its sandbox. Example: p-3k2j9x7w.
        sandbox_id (str):
        name (None | str):
        argv (list[str]): What runs: `/bin/sh -c <command>` for a command line.
        cwd (str):
        status (ProcessStatus): `running`; `exited`: ended by itself (see exitCode); `killed`: ended by a kill request
            or its sandbox's deletion; `lost`: the host restarted while it ran, so how it ended is unknown.
        exit_code (int | None): Once ended: the exit status, 128 + signal number when a signal ended it.
        started_at (datetime.datetime):  Example: 2026-11-22T19:30:00.000Z.
        ended_at (datetime.datetime | None):  Example: 2026-11-22T19:30:00.000Z.
    """

    id: str
    sandbox_id: str
    name: None | str
    argv: list[str]
    cwd: str
    status: ProcessStatus
    exit_code: int | None
    started_at: datetime.datetime
    ended_at: datetime.datetime | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        sandbox_id = self.sandbox_id

        name: None | str
        name = self.name

        argv = self.argv

        cwd = self.cwd

        status: str = self.status

        exit_code: int | None
        exit_code = self.exit_code

        started_at = self.started_at.isoformat()

        ended_at: None | str
        if isinstance(self.ended_at, datetime.datetime):
            ended_at = self.ended_at.isoformat()
        else:
            ended_at = self.ended_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "sandboxId": sandbox_id,
                "name": name,
                "argv": argv,
                "cwd": cwd,
                "status": status,
                "exitCode": exit_code,
                "startedAt": started_at,
                "endedAt": ended_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        sandbox_id = d.pop("sandboxId")

        def _parse_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        name = _parse_name(d.pop("name"))

        argv = cast(list[str], d.pop("argv"))

        cwd = d.pop("cwd")

        status = check_process_status(d.pop("status"))

        def _parse_exit_code(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        exit_code = _parse_exit_code(d.pop("exitCode"))

        started_at = datetime.datetime.fromisoformat(d.pop("startedAt"))

        def _parse_ended_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                ended_at_type_0 = datetime.datetime.fromisoformat(data)

                return ended_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        ended_at = _parse_ended_at(d.pop("endedAt"))

        process_info = cls(
            id=id,
            sandbox_id=sandbox_id,
            name=name,
            argv=argv,
            cwd=cwd,
            status=status,
            exit_code=exit_code,
            started_at=started_at,
            ended_at=ended_at,
        )

        process_info.additional_properties = d
        return process_info

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
