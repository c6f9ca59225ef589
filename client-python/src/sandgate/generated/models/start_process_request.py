from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.start_process_request_env import StartProcessRequestEnv


T = TypeVar("T", bound="StartProcessRequest")


@_attrs_define
class StartProcessRequest:
    """
    Example:
        {'command': 'python3 -m http.server 8080', 'name': 'web'}

    Attributes:
        command (str | Unset): A shell command line, run by `/bin/sh -c`: at most 131071 bytes of UTF-8 (Linux's limit
            on one argument). Pass a longer script as `stdin` to `sh -s`, or write it to a file. Example: echo hello && ls
            -la.
        argv (list[str] | Unset): Program and arguments, run without a shell: each at most 131071 bytes of UTF-8
            (Linux's limit on one argument), and 1048576 bytes in all (each argument in UTF-8 plus one byte). Example:
            ['python3', '-c', 'print(1)'].
        cwd (str | Unset): Working directory; relative paths are under /workspace (the default). One that does not
            exist, or is not a directory, answers 400 `invalid_request`.
        env (StartProcessRequestEnv | Unset): Variables for this command, over the sandbox's own. At most 1024
            variables, each `NAME=value` at most 131071 bytes of UTF-8 (Linux's limit on one argument), and 262144 bytes in
            all (each `NAME=value` in UTF-8 plus one byte). Example: {'GREETING': 'hello'}.
        name (str | Unset): A label for people; not unique. Example: web-server.
    """

    command: str | Unset = UNSET
    argv: list[str] | Unset = UNSET
    cwd: str | Unset = UNSET
    env: StartProcessRequestEnv | Unset = UNSET
    name: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        command = self.command

        argv: list[str] | Unset = UNSET
        if not isinstance(self.argv, Unset):
            argv = self.argv

        cwd = self.cwd

        env: dict[str, Any] | Unset = UNSET
        if not isinstance(self.env, Unset):
            env = self.env.to_dict()

        name = self.name

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
        if name is not UNSET:
            field_dict["name"] = name

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.start_process_request_env import StartProcessRequestEnv

        d = dict(src_dict)
        command = d.pop("command", UNSET)

        argv = cast(list[str], d.pop("argv", UNSET))

        cwd = d.pop("cwd", UNSET)

        _env = d.pop("env", UNSET)
        env: StartProcessRequestEnv | Unset
        if isinstance(_env, Unset):
            env = UNSET
        else:
            env = StartProcessRequestEnv.from_dict(_env)

        name = d.pop("name", UNSET)

        start_process_request = cls(
            command=command,
            argv=argv,
            cwd=cwd,
            env=env,
            name=name,
        )

        return start_process_request
