from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.network_mode import NetworkMode, check_network_mode
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.create_sandbox_request_env import CreateSandboxRequestEnv
    from ..models.create_sandbox_request_labels import CreateSandboxRequestLabels
    from ..models.git_checkout_request import GitCheckoutRequest


T = TypeVar("T", bound="CreateSandboxRequest")


@_attrs_define
class CreateSandboxRequest:
    """
    Attributes:
        id (str | Unset): Choose the id; generated when omitted. Creating an existing id is a 409. Example: demo.
        ttl_seconds (int | Unset): Seconds until the sandbox expires and is reaped (at most 30 days). Example: 3600.
        env (CreateSandboxRequestEnv | Unset): Environment for every command in this sandbox; per-exec env overrides it.
            At most 1024 variables, each `NAME=value` at most 131071 bytes of UTF-8 (Linux's limit on one argument), and
            262144 bytes in all (each `NAME=value` in UTF-8 plus one byte). Example: {'GREETING': 'hello'}.
        labels (CreateSandboxRequestLabels | Unset): Key/value labels for finding sandboxes later. Example: {'team':
            'search', 'job': '42'}.
        network (NetworkMode | Unset): `egress` (the default): the sandbox may open connections to the internet, never
            to the host or other sandboxes; `none`: it has no network beyond its own ports, which the port proxy still
            reaches.
        git (GitCheckoutRequest | Unset): Clone a repository into the workspace before the sandbox is answered; if the
            clone fails, no sandbox is left.
        from_snapshot (str | Unset): Start with this snapshot's workspace (an unknown snapshot is a 404 and no sandbox
            is made). Example: snap-4k2xq7w9m3p5r8ta.
    """

    id: str | Unset = UNSET
    ttl_seconds: int | Unset = UNSET
    env: CreateSandboxRequestEnv | Unset = UNSET
    labels: CreateSandboxRequestLabels | Unset = UNSET
    network: NetworkMode | Unset = UNSET
    git: GitCheckoutRequest | Unset = UNSET
    from_snapshot: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        ttl_seconds = self.ttl_seconds

        env: dict[str, Any] | Unset = UNSET
        if not isinstance(self.env, Unset):
            env = self.env.to_dict()

        labels: dict[str, Any] | Unset = UNSET
        if not isinstance(self.labels, Unset):
            labels = self.labels.to_dict()

        network: str | Unset = UNSET
        if not isinstance(self.network, Unset):
            network = self.network

        git: dict[str, Any] | Unset = UNSET
        if not isinstance(self.git, Unset):
            git = self.git.to_dict()

        from_snapshot = self.from_snapshot

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if id is not UNSET:
            field_dict["id"] = id
        if ttl_seconds is not UNSET:
            field_dict["ttlSeconds"] = ttl_seconds
        if env is not UNSET:
            field_dict["env"] = env
        if labels is not UNSET:
            field_dict["labels"] = labels
        if network is not UNSET:
            field_dict["network"] = network
        if git is not UNSET:
            field_dict["git"] = git
        if from_snapshot is not UNSET:
            field_dict["fromSnapshot"] = from_snapshot

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.create_sandbox_request_env import CreateSandboxRequestEnv
        from ..models.create_sandbox_request_labels import CreateSandboxRequestLabels
        from ..models.git_checkout_request import GitCheckoutRequest

        d = dict(src_dict)
        id = d.pop("id", UNSET)

        ttl_seconds = d.pop("ttlSeconds", UNSET)

        _env = d.pop("env", UNSET)
        env: CreateSandboxRequestEnv | Unset
        if isinstance(_env, Unset):
            env = UNSET
        else:
            env = CreateSandboxRequestEnv.from_dict(_env)

        _labels = d.pop("labels", UNSET)
        labels: CreateSandboxRequestLabels | Unset
        if isinstance(_labels, Unset):
            labels = UNSET
        else:
            labels = CreateSandboxRequestLabels.from_dict(_labels)

        _network = d.pop("network", UNSET)
        network: NetworkMode | Unset
        if isinstance(_network, Unset):
            network = UNSET
        else:
            network = check_network_mode(_network)

        _git = d.pop("git", UNSET)
        git: GitCheckoutRequest | Unset
        if isinstance(_git, Unset):
            git = UNSET
        else:
            git = GitCheckoutRequest.from_dict(_git)

        from_snapshot = d.pop("fromSnapshot", UNSET)

        create_sandbox_request = cls(
            id=id,
            ttl_seconds=ttl_seconds,
            env=env,
            labels=labels,
            network=network,
            git=git,
            from_snapshot=from_snapshot,
        )

        return create_sandbox_request
