from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.compat_create_request_additional_configs import (
        CompatCreateRequestAdditionalConfigs,
    )


T = TypeVar("T", bound="CompatCreateRequest")


@_attrs_define
class CompatCreateRequest:
    """
    Attributes:
        sandbox_id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        keepalive_seconds (int | Unset): Seconds until the sandbox expires.
        additional_configs (CompatCreateRequestAdditionalConfigs | Unset): Accepted and ignored.
    """

    sandbox_id: str
    keepalive_seconds: int | Unset = UNSET
    additional_configs: CompatCreateRequestAdditionalConfigs | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        sandbox_id = self.sandbox_id

        keepalive_seconds = self.keepalive_seconds

        additional_configs: dict[str, Any] | Unset = UNSET
        if not isinstance(self.additional_configs, Unset):
            additional_configs = self.additional_configs.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "sandbox_id": sandbox_id,
            }
        )
        if keepalive_seconds is not UNSET:
            field_dict["keepalive_seconds"] = keepalive_seconds
        if additional_configs is not UNSET:
            field_dict["additional_configs"] = additional_configs

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.compat_create_request_additional_configs import (
            CompatCreateRequestAdditionalConfigs,
        )

        d = dict(src_dict)
        sandbox_id = d.pop("sandbox_id")

        keepalive_seconds = d.pop("keepalive_seconds", UNSET)

        _additional_configs = d.pop("additional_configs", UNSET)
        additional_configs: CompatCreateRequestAdditionalConfigs | Unset
        if isinstance(_additional_configs, Unset):
            additional_configs = UNSET
        else:
            additional_configs = CompatCreateRequestAdditionalConfigs.from_dict(_additional_configs)

        compat_create_request = cls(
            sandbox_id=sandbox_id,
            keepalive_seconds=keepalive_seconds,
            additional_configs=additional_configs,
        )

        compat_create_request.additional_properties = d
        return compat_create_request

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
