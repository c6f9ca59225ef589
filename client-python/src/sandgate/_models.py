"""The types the client hands its users: plain and precise, each over the generated model it came from.

Events and file infos are the generated models with ``type`` (the generated attribute is ``type_``, as
``type`` is a builtin); sandbox infos, snapshots, their lists, restore results, file lists and port links
are small frozen dataclasses with plain ``dict`` labels and a ``url`` that is always set, keeping the
generated model as ``raw``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Literal

from .generated.models import exec_error_event as _exec_error
from .generated.models import exec_exit_event as _exec_exit
from .generated.models import exec_stderr_event as _exec_stderr
from .generated.models import exec_stdout_event as _exec_stdout
from .generated.models import file_info as _file_info
from .generated.models import file_list as _file_list
from .generated.models import port_link as _port_link
from .generated.models import process_exit_event as _proc_exit
from .generated.models import process_log_error_event as _proc_error
from .generated.models import process_log_gap_event as _proc_gap
from .generated.models import process_stderr_event as _proc_stderr
from .generated.models import process_stdout_event as _proc_stdout
from .generated.models import restore_result as _restore_result
from .generated.models import sandbox_info as _sandbox_info
from .generated.models import sandbox_list as _sandbox_list
from .generated.models import snapshot as _snapshot
from .generated.models import snapshot_list as _snapshot_list
from .generated.models.file_type import FileType
from .generated.models.network_mode import NetworkMode
from .generated.models.sandbox_status import SandboxStatus


class ExecStdoutEvent(_exec_stdout.ExecStdoutEvent):
    @property
    def type(self) -> Literal["stdout"]:
        return self.type_


class ExecStderrEvent(_exec_stderr.ExecStderrEvent):
    @property
    def type(self) -> Literal["stderr"]:
        return self.type_


class ExecExitEvent(_exec_exit.ExecExitEvent):
    @property
    def type(self) -> Literal["exit"]:
        return self.type_


class ExecErrorEvent(_exec_error.ExecErrorEvent):
    @property
    def type(self) -> Literal["error"]:
        return self.type_


class ProcessStdoutEvent(_proc_stdout.ProcessStdoutEvent):
    @property
    def type(self) -> Literal["stdout"]:
        return self.type_


class ProcessStderrEvent(_proc_stderr.ProcessStderrEvent):
    @property
    def type(self) -> Literal["stderr"]:
        return self.type_


class ProcessLogGapEvent(_proc_gap.ProcessLogGapEvent):
    @property
    def type(self) -> Literal["gap"]:
        return self.type_


class ProcessExitEvent(_proc_exit.ProcessExitEvent):
    @property
    def type(self) -> Literal["exit"]:
        return self.type_


class ProcessLogErrorEvent(_proc_error.ProcessLogErrorEvent):
    @property
    def type(self) -> Literal["error"]:
        return self.type_


ExecEvent = ExecStdoutEvent | ExecStderrEvent | ExecExitEvent | ExecErrorEvent
"""One event of a streaming exec: ``stdout`` and ``stderr`` chunks, then one ``exit`` or ``error``."""

ProcessLogEvent = ProcessStdoutEvent | ProcessStderrEvent | ProcessLogGapEvent | ProcessExitEvent | ProcessLogErrorEvent
"""One event of a followed process log: ``stdout``/``stderr`` output and ``gap`` (output the host dropped),
each with ``offset`` and ``next_offset``; then one ``exit`` (or ``error``), always last."""


@dataclass(frozen=True)
class SandboxInfo:
    """A sandbox as the host describes it. ``raw`` is the generated model it was read from."""

    id: str
    instance: str
    status: SandboxStatus
    network: NetworkMode
    created_at: datetime.datetime
    expires_at: datetime.datetime
    labels: dict[str, str]
    raw: _sandbox_info.SandboxInfo = field(repr=False, compare=False)

    @classmethod
    def of(cls, raw: _sandbox_info.SandboxInfo) -> SandboxInfo:
        return cls(
            id=raw.id,
            instance=raw.instance,
            status=raw.status,
            network=raw.network,
            created_at=raw.created_at,
            expires_at=raw.expires_at,
            labels={str(k): str(v) for k, v in raw.labels.to_dict().items()},
            raw=raw,
        )


@dataclass(frozen=True)
class SandboxList:
    """One page of sandboxes; pass ``next_cursor`` back as ``cursor`` for the next (None on the last)."""

    sandboxes: list[SandboxInfo]
    next_cursor: str | None
    raw: _sandbox_list.SandboxList = field(repr=False, compare=False)

    @classmethod
    def of(cls, raw: _sandbox_list.SandboxList) -> SandboxList:
        cursor = raw.next_cursor if isinstance(raw.next_cursor, str) else None
        return cls(sandboxes=[SandboxInfo.of(info) for info in raw.sandboxes], next_cursor=cursor, raw=raw)


@dataclass(frozen=True)
class PortLink:
    """A signed link to a sandbox's port: open ``url`` in a browser, no token needed, until ``expires_at``."""

    url: str
    path: str
    port: int
    expires_at: datetime.datetime
    raw: _port_link.PortLink = field(repr=False, compare=False)

    @classmethod
    def of(cls, raw: _port_link.PortLink, base_url: str) -> PortLink:
        # The host answers no absolute URL when it does not know its own origin; this client does.
        url = raw.url if isinstance(raw.url, str) else base_url.rstrip("/") + raw.path
        return cls(url=url, path=raw.path, port=raw.port, expires_at=raw.expires_at, raw=raw)


class FileInfo(_file_info.FileInfo):
    """A file, directory or symlink in the sandbox; ``type`` says which."""

    @property
    def type(self) -> FileType:
        return self.type_

    @classmethod
    def of(cls, raw: _file_info.FileInfo) -> FileInfo:
        info = cls(
            path=raw.path, name=raw.name, type_=raw.type_, size=raw.size, mode=raw.mode, modified_at=raw.modified_at
        )
        info.additional_properties = dict(raw.additional_properties)
        return info


@dataclass(frozen=True)
class FileList:
    """A directory's entries; ``truncated`` when the host stopped at its limit."""

    entries: list[FileInfo]
    truncated: bool
    raw: _file_list.FileList = field(repr=False, compare=False)

    @classmethod
    def of(cls, raw: _file_list.FileList) -> FileList:
        return cls(entries=[FileInfo.of(entry) for entry in raw.entries], truncated=raw.truncated, raw=raw)


@dataclass(frozen=True)
class Snapshot:
    """A saved workspace. ``sandbox_id`` is None for an imported archive, ``expires_at`` None when it is kept."""

    id: str
    sandbox_id: str | None
    name: str | None
    labels: dict[str, str]
    created_at: datetime.datetime
    expires_at: datetime.datetime | None
    file_count: int
    size_bytes: int
    stored_bytes: int
    digest: str
    raw: _snapshot.Snapshot = field(repr=False, compare=False)

    @classmethod
    def of(cls, raw: _snapshot.Snapshot) -> Snapshot:
        return cls(
            id=raw.id,
            sandbox_id=raw.sandbox_id,
            name=raw.name,
            labels={str(k): str(v) for k, v in raw.labels.to_dict().items()},
            created_at=raw.created_at,
            expires_at=raw.expires_at,
            file_count=raw.file_count,
            size_bytes=raw.size_bytes,
            stored_bytes=raw.stored_bytes,
            digest=raw.digest,
            raw=raw,
        )


@dataclass(frozen=True)
class SnapshotList:
    """One page of snapshots; pass ``next_cursor`` back as ``cursor`` for the next (None on the last)."""

    snapshots: list[Snapshot]
    next_cursor: str | None
    raw: _snapshot_list.SnapshotList = field(repr=False, compare=False)

    @classmethod
    def of(cls, raw: _snapshot_list.SnapshotList) -> SnapshotList:
        cursor = raw.next_cursor if isinstance(raw.next_cursor, str) else None
        return cls(snapshots=[Snapshot.of(snapshot) for snapshot in raw.snapshots], next_cursor=cursor, raw=raw)


@dataclass(frozen=True)
class RestoreResult:
    """A restore: the sandbox as it is now, the snapshot it holds, and the background processes it ended."""

    sandbox: SandboxInfo
    snapshot: Snapshot
    killed_processes: int
    raw: _restore_result.RestoreResult = field(repr=False, compare=False)

    @classmethod
    def of(cls, raw: _restore_result.RestoreResult) -> RestoreResult:
        return cls(
            sandbox=SandboxInfo.of(raw.sandbox),
            snapshot=Snapshot.of(raw.snapshot),
            killed_processes=raw.killed_processes,
            raw=raw,
        )
