from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="GitCheckoutRequest")


@_attrs_define
class GitCheckoutRequest:
    """Clone a repository into the workspace before the sandbox is answered; if the clone fails, no sandbox is left.

    Attributes:
        url (str):  Example: https://github.com/cloudflare/sandbox-sdk.git.
        branch (str | Unset): Branch or tag (default: the remote's default branch). Example: main.
        depth (int | Unset): Shallow clone with this many commits. Example: 1.
        dir_ (str | Unset): Where to clone (default: /workspace/<repository name>); must not exist or be empty. Example:
            /workspace/hello.txt.
    """

    url: str
    branch: str | Unset = UNSET
    depth: int | Unset = UNSET
    dir_: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        url = self.url

        branch = self.branch

        depth = self.depth

        dir_ = self.dir_

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "url": url,
            }
        )
        if branch is not UNSET:
            field_dict["branch"] = branch
        if depth is not UNSET:
            field_dict["depth"] = depth
        if dir_ is not UNSET:
            field_dict["dir"] = dir_

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        url = d.pop("url")

        branch = d.pop("branch", UNSET)

        depth = d.pop("depth", UNSET)

        dir_ = d.pop("dir", UNSET)

        git_checkout_request = cls(
            url=url,
            branch=branch,
            depth=depth,
            dir_=dir_,
        )

        return git_checkout_request
