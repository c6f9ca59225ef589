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
from .create_port_link_request import CreatePortLinkRequest
from .create_sandbox_request import CreateSandboxRequest
from .create_sandbox_request_env import CreateSandboxRequestEnv
from .create_sandbox_request_labels import CreateSandboxRequestLabels
from .create_snapshot_request import CreateSnapshotRequest
from .create_snapshot_request_labels import CreateSnapshotRequestLabels
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
from .fork_request import ForkRequest
from .fork_request_env import ForkRequestEnv
from .fork_request_labels import ForkRequestLabels
from .fork_result import ForkResult
from .git_checkout_request import GitCheckoutRequest
from .git_checkout_result import GitCheckoutResult
from .health import Health
from .health_snapshots import HealthSnapshots
from .log_chunk import LogChunk
from .log_chunk_stream import LogChunkStream
from .mkdir_request import MkdirRequest
from .move_file_request import MoveFileRequest
from .network_mode import NetworkMode
from .port_link import PortLink
from .process_exit_event import ProcessExitEvent
from .process_exit_event_type import ProcessExitEventType
from .process_info import ProcessInfo
from .process_list import ProcessList
from .process_log_error_event import ProcessLogErrorEvent
from .process_log_error_event_type import ProcessLogErrorEventType
from .process_log_gap_event import ProcessLogGapEvent
from .process_log_gap_event_type import ProcessLogGapEventType
from .process_logs import ProcessLogs
from .process_status import ProcessStatus
from .process_stderr_event import ProcessStderrEvent
from .process_stderr_event_type import ProcessStderrEventType
from .process_stdout_event import ProcessStdoutEvent
from .process_stdout_event_type import ProcessStdoutEventType
from .read_file_request import ReadFileRequest
from .restore_request import RestoreRequest
from .restore_result import RestoreResult
from .sandbox_info import SandboxInfo
from .sandbox_info_labels import SandboxInfoLabels
from .sandbox_list import SandboxList
from .sandbox_status import SandboxStatus
from .scope import Scope
from .scoped_token import ScopedToken
from .signal import Signal
from .snapshot import Snapshot
from .snapshot_labels import SnapshotLabels
from .snapshot_list import SnapshotList
from .start_process_request import StartProcessRequest
from .start_process_request_env import StartProcessRequestEnv
from .stream_process_logs_response_200 import StreamProcessLogsResponse200
from .stream_process_logs_response_200_event import StreamProcessLogsResponse200Event
from .update_sandbox_request import UpdateSandboxRequest
from .update_sandbox_request_env import UpdateSandboxRequestEnv
from .update_sandbox_request_labels import UpdateSandboxRequestLabels
from .update_snapshot_request import UpdateSnapshotRequest
from .update_snapshot_request_labels import UpdateSnapshotRequestLabels
from .wait_for_log_request import WaitForLogRequest
from .wait_for_log_request_stream import WaitForLogRequestStream
from .wait_for_port_request import WaitForPortRequest
from .wait_result import WaitResult
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
    "CreatePortLinkRequest",
    "CreateSandboxRequest",
    "CreateSandboxRequestEnv",
    "CreateSandboxRequestLabels",
    "CreateSnapshotRequest",
    "CreateSnapshotRequestLabels",
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
    "ForkRequest",
    "ForkRequestEnv",
    "ForkRequestLabels",
    "ForkResult",
    "GitCheckoutRequest",
    "GitCheckoutResult",
    "Health",
    "HealthSnapshots",
    "LogChunk",
    "LogChunkStream",
    "MkdirRequest",
    "MoveFileRequest",
    "NetworkMode",
    "PortLink",
    "ProcessExitEvent",
    "ProcessExitEventType",
    "ProcessInfo",
    "ProcessList",
    "ProcessLogErrorEvent",
    "ProcessLogErrorEventType",
    "ProcessLogGapEvent",
    "ProcessLogGapEventType",
    "ProcessLogs",
    "ProcessStatus",
    "ProcessStderrEvent",
    "ProcessStderrEventType",
    "ProcessStdoutEvent",
    "ProcessStdoutEventType",
    "ReadFileRequest",
    "RestoreRequest",
    "RestoreResult",
    "SandboxInfo",
    "SandboxInfoLabels",
    "SandboxList",
    "SandboxStatus",
    "Scope",
    "ScopedToken",
    "Signal",
    "Snapshot",
    "SnapshotLabels",
    "SnapshotList",
    "StartProcessRequest",
    "StartProcessRequestEnv",
    "StreamProcessLogsResponse200",
    "StreamProcessLogsResponse200Event",
    "UpdateSandboxRequest",
    "UpdateSandboxRequestEnv",
    "UpdateSandboxRequestLabels",
    "UpdateSnapshotRequest",
    "UpdateSnapshotRequestLabels",
    "WaitForLogRequest",
    "WaitForLogRequestStream",
    "WaitForPortRequest",
    "WaitResult",
    "WriteFileRequest",
)
