"""Contains all the data models used in inputs/outputs"""

from .compat_create_request import CompatCreateRequest
from .compat_create_request_additional_configs import (
    CompatCreateRequestAdditionalConfigs,
)
from .compat_download_request import CompatDownloadRequest
from .compat_download_request_encoding import CompatDownloadRequestEncoding
from .compat_download_result import CompatDownloadResult
from .compat_download_result_encoding import CompatDownloadResultEncoding
from .compat_exec_request import CompatExecRequest
from .compat_exec_result import CompatExecResult
from .compat_sandbox import CompatSandbox
from .compat_sandbox_sandbox_status import CompatSandboxSandboxStatus
from .compat_success import CompatSuccess
from .compat_update_request import CompatUpdateRequest
from .compat_upload_request import CompatUploadRequest
from .compat_upload_request_encoding import CompatUploadRequestEncoding
from .create_sandbox_request import CreateSandboxRequest
from .create_sandbox_request_env import CreateSandboxRequestEnv
from .create_sandbox_request_labels import CreateSandboxRequestLabels
from .create_token_request import CreateTokenRequest
from .encoding import Encoding
from .error import Error
from .error_code import ErrorCode
from .error_error import ErrorError
from .error_error_details import ErrorErrorDetails
from .exec_error_event import ExecErrorEvent
from .exec_error_event_type import ExecErrorEventType
from .exec_exit_event import ExecExitEvent
from .exec_exit_event_type import ExecExitEventType
from .exec_request import ExecRequest
from .exec_request_env import ExecRequestEnv
from .exec_result import ExecResult
from .exec_stderr_event import ExecStderrEvent
from .exec_stderr_event_type import ExecStderrEventType
from .exec_stdout_event import ExecStdoutEvent
from .exec_stdout_event_type import ExecStdoutEventType
from .exec_stream_response_200 import ExecStreamResponse200
from .exec_stream_response_200_event import ExecStreamResponse200Event
from .file_content import FileContent
from .file_info import FileInfo
from .file_list import FileList
from .file_type import FileType
from .health import Health
from .mkdir_request import MkdirRequest
from .move_file_request import MoveFileRequest
from .read_file_request import ReadFileRequest
from .sandbox_info import SandboxInfo
from .sandbox_info_labels import SandboxInfoLabels
from .sandbox_list import SandboxList
from .sandbox_status import SandboxStatus
from .scope import Scope
from .scoped_token import ScopedToken
from .update_sandbox_request import UpdateSandboxRequest
from .update_sandbox_request_labels import UpdateSandboxRequestLabels
from .write_file_request import WriteFileRequest

__all__ = (
    "CompatCreateRequest",
    "CompatCreateRequestAdditionalConfigs",
    "CompatDownloadRequest",
    "CompatDownloadRequestEncoding",
    "CompatDownloadResult",
    "CompatDownloadResultEncoding",
    "CompatExecRequest",
    "CompatExecResult",
    "CompatSandbox",
    "CompatSandboxSandboxStatus",
    "CompatSuccess",
    "CompatUpdateRequest",
    "CompatUploadRequest",
    "CompatUploadRequestEncoding",
    "CreateSandboxRequest",
    "CreateSandboxRequestEnv",
    "CreateSandboxRequestLabels",
    "CreateTokenRequest",
    "Encoding",
    "Error",
    "ErrorCode",
    "ErrorError",
    "ErrorErrorDetails",
    "ExecErrorEvent",
    "ExecErrorEventType",
    "ExecExitEvent",
    "ExecExitEventType",
    "ExecRequest",
    "ExecRequestEnv",
    "ExecResult",
    "ExecStderrEvent",
    "ExecStderrEventType",
    "ExecStdoutEvent",
    "ExecStdoutEventType",
    "ExecStreamResponse200",
    "ExecStreamResponse200Event",
    "FileContent",
    "FileInfo",
    "FileList",
    "FileType",
    "Health",
    "MkdirRequest",
    "MoveFileRequest",
    "ReadFileRequest",
    "SandboxInfo",
    "SandboxInfoLabels",
    "SandboxList",
    "SandboxStatus",
    "Scope",
    "ScopedToken",
    "UpdateSandboxRequest",
    "UpdateSandboxRequestLabels",
    "WriteFileRequest",
)
