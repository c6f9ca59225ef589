from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.snapshot_list import SnapshotList
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    sandbox_id: str | Unset = UNSET,
    label: list[str] | str | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["sandboxId"] = sandbox_id

    json_label: list[str] | str | Unset
    if isinstance(label, Unset):
        json_label = UNSET
    elif isinstance(label, list):
        json_label = label

    else:
        json_label = label
    params["label"] = json_label

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/snapshots",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | SnapshotList | None:
    if response.status_code == 200:
        response_200 = SnapshotList.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())

        return response_403

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


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | SnapshotList]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    sandbox_id: str | Unset = UNSET,
    label: list[str] | str | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Response[Error | SnapshotList]:
    """List snapshots, by sandbox or label

    Args:
        sandbox_id (str | Unset): Only snapshots of this sandbox. Example: demo.
        label (list[str] | str | Unset): Filter by label `key:value`; repeat to require several.
        limit (int | Unset): Page size (default 100).
        cursor (str | Unset): `nextCursor` of the previous page. Any other value (one this service
            did not issue) answers 400 `invalid_request`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | SnapshotList]
    """

    kwargs = _get_kwargs(
        sandbox_id=sandbox_id,
        label=label,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    sandbox_id: str | Unset = UNSET,
    label: list[str] | str | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Error | SnapshotList | None:
    """List snapshots, by sandbox or label

    Args:
        sandbox_id (str | Unset): Only snapshots of this sandbox. Example: demo.
        label (list[str] | str | Unset): Filter by label `key:value`; repeat to require several.
        limit (int | Unset): Page size (default 100).
        cursor (str | Unset): `nextCursor` of the previous page. Any other value (one this service
            did not issue) answers 400 `invalid_request`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | SnapshotList
    """

    return sync_detailed(
        client=client,
        sandbox_id=sandbox_id,
        label=label,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    sandbox_id: str | Unset = UNSET,
    label: list[str] | str | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Response[Error | SnapshotList]:
    """List snapshots, by sandbox or label

    Args:
        sandbox_id (str | Unset): Only snapshots of this sandbox. Example: demo.
        label (list[str] | str | Unset): Filter by label `key:value`; repeat to require several.
        limit (int | Unset): Page size (default 100).
        cursor (str | Unset): `nextCursor` of the previous page. Any other value (one this service
            did not issue) answers 400 `invalid_request`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | SnapshotList]
    """

    kwargs = _get_kwargs(
        sandbox_id=sandbox_id,
        label=label,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    sandbox_id: str | Unset = UNSET,
    label: list[str] | str | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Error | SnapshotList | None:
    """List snapshots, by sandbox or label

    Args:
        sandbox_id (str | Unset): Only snapshots of this sandbox. Example: demo.
        label (list[str] | str | Unset): Filter by label `key:value`; repeat to require several.
        limit (int | Unset): Page size (default 100).
        cursor (str | Unset): `nextCursor` of the previous page. Any other value (one this service
            did not issue) answers 400 `invalid_request`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | SnapshotList
    """

    return (
        await asyncio_detailed(
            client=client,
            sandbox_id=sandbox_id,
            label=label,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
