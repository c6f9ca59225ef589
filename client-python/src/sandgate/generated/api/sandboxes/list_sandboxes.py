from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.sandbox_list import SandboxList
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    label: list[str] | str | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

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
        "url": "/v1/sandboxes",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | SandboxList | None:
    if response.status_code == 200:
        response_200 = SandboxList.from_dict(response.json())

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

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | SandboxList]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    label: list[str] | str | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Response[Error | SandboxList]:
    """List sandboxes, optionally by label

    Args:
        label (list[str] | str | Unset): Filter by label `key:value`; repeat to require several.
            Example: team:search.
        limit (int | Unset): Page size (default 100). Example: 100.
        cursor (str | Unset): `nextCursor` of the previous page. Any other value (one this service
            did not issue) answers 400 `invalid_request`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | SandboxList]
    """

    kwargs = _get_kwargs(
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
    label: list[str] | str | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Error | SandboxList | None:
    """List sandboxes, optionally by label

    Args:
        label (list[str] | str | Unset): Filter by label `key:value`; repeat to require several.
            Example: team:search.
        limit (int | Unset): Page size (default 100). Example: 100.
        cursor (str | Unset): `nextCursor` of the previous page. Any other value (one this service
            did not issue) answers 400 `invalid_request`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | SandboxList
    """

    return sync_detailed(
        client=client,
        label=label,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    label: list[str] | str | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Response[Error | SandboxList]:
    """List sandboxes, optionally by label

    Args:
        label (list[str] | str | Unset): Filter by label `key:value`; repeat to require several.
            Example: team:search.
        limit (int | Unset): Page size (default 100). Example: 100.
        cursor (str | Unset): `nextCursor` of the previous page. Any other value (one this service
            did not issue) answers 400 `invalid_request`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | SandboxList]
    """

    kwargs = _get_kwargs(
        label=label,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    label: list[str] | str | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Error | SandboxList | None:
    """List sandboxes, optionally by label

    Args:
        label (list[str] | str | Unset): Filter by label `key:value`; repeat to require several.
            Example: team:search.
        limit (int | Unset): Page size (default 100). Example: 100.
        cursor (str | Unset): `nextCursor` of the previous page. Any other value (one this service
            did not issue) answers 400 `invalid_request`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | SandboxList
    """

    return (
        await asyncio_detailed(
            client=client,
            label=label,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
