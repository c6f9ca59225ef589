from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.update_sandbox_request_env import UpdateSandboxRequestEnv
    from ..models.update_sandbox_request_labels import UpdateSandboxRequestLabels


T = TypeVar("T", bound="UpdateSandboxRequest")


@_attrs_define
class UpdateSandboxRequest:
    """
    Attributes:
        ttl_seconds (int | Unset): Expire this many seconds from now. Example: 3600.
        extend_by_seconds (int | Unset): Push the current expiry back by this many seconds. Example: 3600.
        labels (UpdateSandboxRequestLabels | Unset): Replace all labels. Example: {'team': 'search', 'job': '42'}.
        env (UpdateSandboxRequestEnv | Unset): Replace the sandbox-wide environment: commands and processes started from
            now on see it, under their own env. At most 1024 variables, each `NAME=value` at most 131071 bytes of UTF-8
            (Linux's limit on one argument), and 262144 bytes in all (each `NAME=value` in UTF-8 plus one byte). Example:
            {'GREETING': 'hello'}.
    """

    ttl_seconds: int | Unset = UNSET
    extend_by_seconds: int | Unset = UNSET
    labels: UpdateSandboxRequestLabels | Unset = UNSET
    env: UpdateSandboxRequestEnv | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        ttl_seconds = self.ttl_seconds

        extend_by_seconds = self.extend_by_seconds

        labels: dict[str, Any] | Unset = UNSET
        if not isinstance(self.labels, Unset):
            labels = self.labels.to_dict()

        env: dict[str, Any] | Unset = UNSET
        if not isinstance(self.env, Unset):
            env = self.env.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if ttl_seconds is not UNSET:
            field_dict["ttlSeconds"] = ttl_seconds
        if extend_by_seconds is not UNSET:
            field_dict["extendBySeconds"] = extend_by_seconds
        if labels is not UNSET:
            field_dict["labels"] = labels
        if env is not UNSET:
            field_dict["env"] = env

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.update_sandbox_request_env import UpdateSandboxRequestEnv
        from ..models.update_sandbox_request_labels import UpdateSandboxRequestLabels

        d = dict(src_dict)
        ttl_seconds = d.pop("ttlSeconds", UNSET)

        extend_by_seconds = d.pop("extendBySeconds", UNSET)

        _labels = d.pop("labels", UNSET)
        labels: UpdateSandboxRequestLabels | Unset
        if isinstance(_labels, Unset):
            labels = UNSET
        else:
            labels = UpdateSandboxRequestLabels.from_dict(_labels)

        _env = d.pop("env", UNSET)
        env: UpdateSandboxRequestEnv | Unset
        if isinstance(_env, Unset):
            env = UNSET
        else:
            env = UpdateSandboxRequestEnv.from_dict(_env)

        update_sandbox_request = cls(
            ttl_seconds=ttl_seconds,
            extend_by_seconds=extend_by_seconds,
            labels=labels,
            env=env,
        )

        return update_sandbox_request
