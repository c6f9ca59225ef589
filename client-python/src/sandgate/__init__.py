"""Sandgate's Python client.

``Sandgate`` (sync) and ``AsyncSandgate`` (asyncio) are a small hand-written layer over the client
generated from Sandgate's OpenAPI document (``sandgate.generated``, by openapi-python-client): sandboxes,
buffered and streamed exec, streamed file transfers, background processes (their logs followed across
reconnections), the port proxy and snapshots, with every failure raised as ``SandgateError``.
"""

from ._async import (
    AsyncCreatedSandbox,
    AsyncExecStream,
    AsyncFiles,
    AsyncFork,
    AsyncLogFollower,
    AsyncProcess,
    AsyncSandbox,
    AsyncSandboxes,
    AsyncSandgate,
    AsyncSnapshots,
)
from ._errors import ClientErrorCode, SandgateError
from ._io import AsyncFileData, FileData
from ._models import (
    ExecErrorEvent,
    ExecEvent,
    ExecExitEvent,
    ExecStderrEvent,
    ExecStdoutEvent,
    FileInfo,
    FileList,
    PortLink,
    ProcessExitEvent,
    ProcessLogErrorEvent,
    ProcessLogEvent,
    ProcessLogGapEvent,
    ProcessStderrEvent,
    ProcessStdoutEvent,
    RestoreResult,
    SandboxInfo,
    SandboxList,
    Snapshot,
    SnapshotList,
)
from ._sync import (
    CreatedSandbox,
    ExecStream,
    Files,
    Fork,
    LogFollower,
    Process,
    Sandbox,
    Sandboxes,
    Sandgate,
    Snapshots,
)
from .generated.models.error_code import ErrorCode
from .generated.models.exec_result import ExecResult
from .generated.models.file_content import FileContent
from .generated.models.git_checkout_request import GitCheckoutRequest
from .generated.models.git_checkout_result import GitCheckoutResult
from .generated.models.health import Health
from .generated.models.log_chunk import LogChunk
from .generated.models.network_mode import NetworkMode
from .generated.models.process_info import ProcessInfo
from .generated.models.process_logs import ProcessLogs
from .generated.models.process_status import ProcessStatus
from .generated.models.scope import Scope
from .generated.models.scoped_token import ScopedToken
from .generated.models.signal import Signal
from .generated.models.wait_result import WaitResult

__all__ = [
    "AsyncCreatedSandbox",
    "AsyncExecStream",
    "AsyncFileData",
    "AsyncFiles",
    "AsyncFork",
    "AsyncLogFollower",
    "AsyncProcess",
    "AsyncSandbox",
    "AsyncSandboxes",
    "AsyncSandgate",
    "AsyncSnapshots",
    "ClientErrorCode",
    "CreatedSandbox",
    "ErrorCode",
    "ExecErrorEvent",
    "ExecEvent",
    "ExecExitEvent",
    "ExecResult",
    "ExecStderrEvent",
    "ExecStdoutEvent",
    "ExecStream",
    "FileContent",
    "FileData",
    "FileInfo",
    "FileList",
    "Files",
    "Fork",
    "GitCheckoutRequest",
    "GitCheckoutResult",
    "Health",
    "LogChunk",
    "LogFollower",
    "NetworkMode",
    "PortLink",
    "Process",
    "ProcessExitEvent",
    "ProcessInfo",
    "ProcessLogErrorEvent",
    "ProcessLogEvent",
    "ProcessLogGapEvent",
    "ProcessLogs",
    "ProcessStatus",
    "ProcessStderrEvent",
    "ProcessStdoutEvent",
    "RestoreResult",
    "Sandbox",
    "SandboxInfo",
    "SandboxList",
    "Sandboxes",
    "Sandgate",
    "SandgateError",
    "Scope",
    "ScopedToken",
    "Signal",
    "Snapshot",
    "SnapshotList",
    "Snapshots",
    "WaitResult",
]
