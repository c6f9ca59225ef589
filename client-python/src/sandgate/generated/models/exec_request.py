from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.exec_request_env import ExecRequestEnv


T = TypeVar("T", bound="ExecRequest")


@_attrs_define
class ExecRequest:
    """
    Example:
        {'command': 'echo hello && ls -la', 'timeoutMs': 30000}

    Attributes:
        command (str | Unset): A shell command line, run by `/bin/sh -c`: at most 131071 bytes of UTF-8 (Linux's limit
            on one argument). Pass a longer script as `stdin` to `sh -s`, or write it to a file. Example: echo hello && ls
            -la.
        argv (list[str] | Unset): Program and arguments, run without a shell: each at most 131071 bytes of UTF-8
            (Linux's limit on one argument), and 1048576 bytes in all (each argument in UTF-8 plus one byte). Example:
            ['python3', '-c', 'print(1)'].
        cwd (str | Unset): Working directory; relative paths are under /workspace (the default). One that does not
            exist, or is not a directory, answers 400 `invalid_request`.
        env (ExecRequestEnv | Unset): Variables for this command, over the sandbox's own. At most 1024 variables, each
            `NAME=value` at most 131071 bytes of UTF-8 (Linux's limit on one argument), and 262144 bytes in all (each
            `NAME=value` in UTF-8 plus one byte). Example: {'GREETING': 'hello'}.
        timeout_ms (int | Unset): Kill the whole process tree after this many milliseconds (default 60000). Example:
            30000.
        stdin (str | Unset): Written to the command's standard input, which is then closed.
    """

    command: str | Unset = UNSET
    argv: list[str] | Unset = UNSET
    cwd: str | Unset = UNSET
    env: ExecRequestEnv | Unset = UNSET
    timeout_ms: int | Unset = UNSET
    stdin: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        command = self.command

        argv: list[str] | Unset = UNSET
        if not isinstance(self.argv, Unset):
            argv = self.argv

        cwd = self.cwd

        env: dict[str, Any] | Unset = UNSET
        if not isinstance(self.env, Unset):
            env = self.env.to_dict()

        timeout_ms = self.timeout_ms

        stdin = self.stdin

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if command is not UNSET:
            field_dict["command"] = command
        if argv is not UNSET:
            field_dict["argv"] = argv
        if cwd is not UNSET:
            field_dict["cwd"] = cwd
        if env is not UNSET:
            field_dict["env"] = env
        if timeout_ms is not UNSET:
            field_dict["timeoutMs"] = timeout_ms
        if stdin is not UNSET:
            field_dict["stdin"] = stdin

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.exec_request_env import ExecRequestEnv

        d = dict(src_dict)
        command = d.pop("command", UNSET)

        argv = cast(list[str], d.pop("argv", UNSET))

        cwd = d.pop("cwd", UNSET)

        _env = d.pop("env", UNSET)
        env: ExecRequestEnv | Unset
        if isinstance(_env, Unset):
            env = UNSET
        else:
            env = ExecRequestEnv.from_dict(_env)

        timeout_ms = d.pop("timeoutMs", UNSET)

        stdin = d.pop("stdin", UNSET)

        exec_request = cls(
            command=command,
            argv=argv,
            cwd=cwd,
            env=env,
            timeout_ms=timeout_ms,
            stdin=stdin,
        )

        return exec_request
