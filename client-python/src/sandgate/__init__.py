"""Sandgate's Python client.

``Sandgate`` (sync) and ``AsyncSandgate`` (asyncio) are a small hand-written layer over the client
generated from Sandgate's OpenAPI document (``sandgate.generated``, by openapi-python-client): sandboxes,
buffered and streamed exec, streamed file transfers, background processes (their logs followed across
reconnections) and the port proxy, with every failure raised as ``SandgateError``.
"""

from ._async import (
    AsyncExecStream,
    AsyncFileData,
    AsyncFiles,
    AsyncLogFollower,
    AsyncProcess,
    AsyncSandbox,
    AsyncSandboxes,
    AsyncSandgate,
)
from ._common import ExecEvent, ProcessLogEvent
from ._errors import SandgateError
from ._sync import ExecStream, FileData, Files, LogFollower, Process, Sandbox, Sandboxes, Sandgate
from .generated.models.error_code import ErrorCode
from .generated.models.exec_error_event import ExecErrorEvent
from .generated.models.exec_exit_event import ExecExitEvent
from .generated.models.exec_result import ExecResult
from .generated.models.exec_stderr_event import ExecStderrEvent
from .generated.models.exec_stdout_event import ExecStdoutEvent
from .generated.models.file_content import FileContent
from .generated.models.file_info import FileInfo
from .generated.models.file_list import FileList
from .generated.models.git_checkout_request import GitCheckoutRequest
from .generated.models.git_checkout_result import GitCheckoutResult
from .generated.models.health import Health
from .generated.models.log_chunk import LogChunk
from .generated.models.network_mode import NetworkMode
from .generated.models.port_link import PortLink
from .generated.models.process_exit_event import ProcessExitEvent
from .generated.models.process_info import ProcessInfo
from .generated.models.process_log_error_event import ProcessLogErrorEvent
from .generated.models.process_log_gap_event import ProcessLogGapEvent
from .generated.models.process_logs import ProcessLogs
from .generated.models.process_status import ProcessStatus
from .generated.models.process_stderr_event import ProcessStderrEvent
from .generated.models.process_stdout_event import ProcessStdoutEvent
from .generated.models.sandbox_info import SandboxInfo
from .generated.models.sandbox_list import SandboxList
from .generated.models.scope import Scope
from .generated.models.scoped_token import ScopedToken
from .generated.models.signal import Signal
from .generated.models.wait_result import WaitResult

__all__ = [
    "AsyncExecStream",
    "AsyncFileData",
    "AsyncFiles",
    "AsyncLogFollower",
    "AsyncProcess",
    "AsyncSandbox",
    "AsyncSandboxes",
    "AsyncSandgate",
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
    "Sandbox",
    "SandboxInfo",
    "SandboxList",
    "Sandboxes",
    "Sandgate",
    "SandgateError",
    "Scope",
    "ScopedToken",
    "Signal",
    "WaitResult",
]
