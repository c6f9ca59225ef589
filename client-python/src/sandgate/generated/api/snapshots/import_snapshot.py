from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.snapshot import Snapshot
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    *,
    body: File,
    name: str | Unset = UNSET,
    label: list[str] | str | Unset = UNSET,
    ttl_seconds: int | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["name"] = name

    json_label: list[str] | str | Unset
    if isinstance(label, Unset):
        json_label = UNSET
    elif isinstance(label, list):
        json_label = label

    else:
        json_label = label
    params["label"] = json_label

    params["ttlSeconds"] = ttl_seconds

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/snapshots",
        "params": params,
    }

    _kwargs["content"] = body.payload
    headers["Content-Type"] = "application/octet-stream"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | Snapshot | None:
    if response.status_code == 201:
        response_201 = Snapshot.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())

        return response_403

    if response.status_code == 413:
        response_413 = Error.from_dict(response.json())

        return response_413

    if response.status_code == 431:
        response_431 = Error.from_dict(response.json())

        return response_431

    if response.status_code == 500:
        response_500 = Error.from_dict(response.json())

        return response_500

    if response.status_code == 501:
        response_501 = Error.from_dict(response.json())

        return response_501

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | Snapshot]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: File,
    name: str | Unset = UNSET,
    label: list[str] | str | Unset = UNSET,
    ttl_seconds: int | Unset = UNSET,
) -> Response[Error | Snapshot]:
    """Make a snapshot from a tar archive

     The body is a tar (streamed), plain or compressed with gzip or zstd (recognised from its first
    bytes, whatever the Content-Type says). Regular files, directories, symlinks and hard links within
    the tree are taken; absolute or `..` names, links that lead out of the tree, devices and FIFOs are
    refused (400), as is a truncated or corrupt archive, and nothing of a refused archive is kept.

    Args:
        name (str | Unset):
        label (list[str] | str | Unset): Labels `key:value`; repeat for several.
        ttl_seconds (int | Unset):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Snapshot]
    """

    kwargs = _get_kwargs(
        body=body,
        name=name,
        label=label,
        ttl_seconds=ttl_seconds,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: File,
    name: str | Unset = UNSET,
    label: list[str] | str | Unset = UNSET,
    ttl_seconds: int | Unset = UNSET,
) -> Error | Snapshot | None:
    """Make a snapshot from a tar archive

     The body is a tar (streamed), plain or compressed with gzip or zstd (recognised from its first
    bytes, whatever the Content-Type says). Regular files, directories, symlinks and hard links within
    the tree are taken; absolute or `..` names, links that lead out of the tree, devices and FIFOs are
    refused (400), as is a truncated or corrupt archive, and nothing of a refused archive is kept.

    Args:
        name (str | Unset):
        label (list[str] | str | Unset): Labels `key:value`; repeat for several.
        ttl_seconds (int | Unset):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Snapshot
    """

    return sync_detailed(
        client=client,
        body=body,
        name=name,
        label=label,
        ttl_seconds=ttl_seconds,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: File,
    name: str | Unset = UNSET,
    label: list[str] | str | Unset = UNSET,
    ttl_seconds: int | Unset = UNSET,
) -> Response[Error | Snapshot]:
    """Make a snapshot from a tar archive

     The body is a tar (streamed), plain or compressed with gzip or zstd (recognised from its first
    bytes, whatever the Content-Type says). Regular files, directories, symlinks and hard links within
    the tree are taken; absolute or `..` names, links that lead out of the tree, devices and FIFOs are
    refused (400), as is a truncated or corrupt archive, and nothing of a refused archive is kept.

    Args:
        name (str | Unset):
        label (list[str] | str | Unset): Labels `key:value`; repeat for several.
        ttl_seconds (int | Unset):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Snapshot]
    """

    kwargs = _get_kwargs(
        body=body,
        name=name,
        label=label,
        ttl_seconds=ttl_seconds,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: File,
    name: str | Unset = UNSET,
    label: list[str] | str | Unset = UNSET,
    ttl_seconds: int | Unset = UNSET,
) -> Error | Snapshot | None:
    """Make a snapshot from a tar archive

     The body is a tar (streamed), plain or compressed with gzip or zstd (recognised from its first
    bytes, whatever the Content-Type says). Regular files, directories, symlinks and hard links within
    the tree are taken; absolute or `..` names, links that lead out of the tree, devices and FIFOs are
    refused (400), as is a truncated or corrupt archive, and nothing of a refused archive is kept.

    Args:
        name (str | Unset):
        label (list[str] | str | Unset): Labels `key:value`; repeat for several.
        ttl_seconds (int | Unset):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Snapshot
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            name=name,
            label=label,
            ttl_seconds=ttl_seconds,
        )
    ).parsed
