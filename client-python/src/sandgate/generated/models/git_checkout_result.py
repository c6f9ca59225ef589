from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="GitCheckoutResult")


@_attrs_define
class GitCheckoutResult:
    """
    Attributes:
        dir_ (str):  Example: /workspace/sandbox-sdk.
        branch (None | str): The branch checked out; null for a detached HEAD (a tag).
        commit (str): The full hash of HEAD.
    """

    dir_: str
    branch: None | str
    commit: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        dir_ = self.dir_

        branch: None | str
        branch = self.branch

        commit = self.commit

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "dir": dir_,
                "branch": branch,
                "commit": commit,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        dir_ = d.pop("dir")

        def _parse_branch(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        branch = _parse_branch(d.pop("branch"))

        commit = d.pop("commit")

        git_checkout_result = cls(
            dir_=dir_,
            branch=branch,
            commit=commit,
        )

        git_checkout_result.additional_properties = d
        return git_checkout_result

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
