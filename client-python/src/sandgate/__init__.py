"""Sandgate's Python client.

``Sandgate`` (sync) and ``AsyncSandgate`` (asyncio) are a small hand-written layer over the client
generated from Sandgate's OpenAPI document (``sandgate.generated``, by openapi-python-client): sandboxes,
buffered and streamed exec, and streamed file transfers, with every failure raised as ``SandgateError``.
"""

from ._async import AsyncExecStream, AsyncFileData, AsyncFiles, AsyncSandbox, AsyncSandboxes, AsyncSandgate
from ._common import ExecEvent
from ._errors import SandgateError
from ._sync import ExecStream, FileData, Files, Sandbox, Sandboxes, Sandgate
from .generated.models.error_code import ErrorCode
from .generated.models.exec_error_event import ExecErrorEvent
from .generated.models.exec_exit_event import ExecExitEvent
from .generated.models.exec_result import ExecResult
from .generated.models.exec_stderr_event import ExecStderrEvent
from .generated.models.exec_stdout_event import ExecStdoutEvent
from .generated.models.file_content import FileContent
from .generated.models.file_info import FileInfo
from .generated.models.file_list import FileList
from .generated.models.health import Health
from .generated.models.sandbox_info import SandboxInfo
from .generated.models.sandbox_list import SandboxList

__all__ = [
    "AsyncExecStream",
    "AsyncFileData",
    "AsyncFiles",
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
    "Health",
    "Sandbox",
    "SandboxInfo",
    "SandboxList",
    "Sandboxes",
    "Sandgate",
    "SandgateError",
]
