from typing import Literal

Scope = Literal["exec", "files:read", "files:write", "ports", "sandbox:read", "snapshots:read", "snapshots:write"]

SCOPE_VALUES: set[Scope] = {
    "exec",
    "files:read",
    "files:write",
    "ports",
    "sandbox:read",
    "snapshots:read",
    "snapshots:write",
}


def check_scope(value: str) -> Scope:
    if value in SCOPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {SCOPE_VALUES!r}")
