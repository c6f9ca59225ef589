from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.network_mode import NetworkMode, check_network_mode
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.fork_request_env import ForkRequestEnv
    from ..models.fork_request_labels import ForkRequestLabels


T = TypeVar("T", bound="ForkRequest")


@_attrs_define
class ForkRequest:
    """
    Attributes:
        count (int): How many sandboxes to make (1 to 100). Example: 5.
        labels (ForkRequestLabels | Unset): Labels of every new sandbox. Example: {'team': 'search', 'job': '42'}.
        ttl_seconds (int | Unset): Lifetime of every new sandbox (default: the service's). Example: 3600.
        env (ForkRequestEnv | Unset): Environment of every new sandbox (the source's is not copied). Example:
            {'GREETING': 'hello'}.
        network (NetworkMode | Unset): `egress` (the default): the sandbox may open connections to the internet, never
            to the host or other sandboxes; `none`: it has no network beyond its own ports, which the port proxy still
            reaches.
        excludes (list[str] | Unset): Left out of the copies: globs relative to /workspace.
        keep_snapshot (bool | Unset): Keep the snapshot the copies were made from (answered as `snapshot`); by default
            it is deleted once they exist.
    """

    count: int
    labels: ForkRequestLabels | Unset = UNSET
    ttl_seconds: int | Unset = UNSET
    env: ForkRequestEnv | Unset = UNSET
    network: NetworkMode | Unset = UNSET
    excludes: list[str] | Unset = UNSET
    keep_snapshot: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        count = self.count

        labels: dict[str, Any] | Unset = UNSET
        if not isinstance(self.labels, Unset):
            labels = self.labels.to_dict()

        ttl_seconds = self.ttl_seconds

        env: dict[str, Any] | Unset = UNSET
        if not isinstance(self.env, Unset):
            env = self.env.to_dict()

        network: str | Unset = UNSET
        if not isinstance(self.network, Unset):
            network = self.network

        excludes: list[str] | Unset = UNSET
        if not isinstance(self.excludes, Unset):
            excludes = self.excludes

        keep_snapshot = self.keep_snapshot

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "count": count,
            }
        )
        if labels is not UNSET:
            field_dict["labels"] = labels
        if ttl_seconds is not UNSET:
            field_dict["ttlSeconds"] = ttl_seconds
        if env is not UNSET:
            field_dict["env"] = env
        if network is not UNSET:
            field_dict["network"] = network
        if excludes is not UNSET:
            field_dict["excludes"] = excludes
        if keep_snapshot is not UNSET:
            field_dict["keepSnapshot"] = keep_snapshot

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.fork_request_env import ForkRequestEnv
        from ..models.fork_request_labels import ForkRequestLabels

        d = dict(src_dict)
        count = d.pop("count")

        _labels = d.pop("labels", UNSET)
        labels: ForkRequestLabels | Unset
        if isinstance(_labels, Unset):
            labels = UNSET
        else:
            labels = ForkRequestLabels.from_dict(_labels)

        ttl_seconds = d.pop("ttlSeconds", UNSET)

        _env = d.pop("env", UNSET)
        env: ForkRequestEnv | Unset
        if isinstance(_env, Unset):
            env = UNSET
        else:
            env = ForkRequestEnv.from_dict(_env)

        _network = d.pop("network", UNSET)
        network: NetworkMode | Unset
        if isinstance(_network, Unset):
            network = UNSET
        else:
            network = check_network_mode(_network)

        excludes = cast(list[str], d.pop("excludes", UNSET))

        keep_snapshot = d.pop("keepSnapshot", UNSET)

        fork_request = cls(
            count=count,
            labels=labels,
            ttl_seconds=ttl_seconds,
            env=env,
            network=network,
            excludes=excludes,
            keep_snapshot=keep_snapshot,
        )

        return fork_request
