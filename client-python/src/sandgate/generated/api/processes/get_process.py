from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.process_info import ProcessInfo
from ...types import Response


def _get_kwargs(
    id: str,
    process_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/sandboxes/{id}/processes/{process_id}".format(
            id=quote(str(id), safe=""),
            process_id=quote(str(process_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | ProcessInfo | None:
    if response.status_code == 200:
        response_200 = ProcessInfo.from_dict(response.json())

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

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | ProcessInfo]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: str,
    process_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[Error | ProcessInfo]:
    """Get a background process

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        process_id (str): Process id, unique within its sandbox. Example: p-3k2j9x7w.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ProcessInfo]
    """

    kwargs = _get_kwargs(
        id=id,
        process_id=process_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    process_id: str,
    *,
    client: AuthenticatedClient,
) -> Error | ProcessInfo | None:
    """Get a background process

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        process_id (str): Process id, unique within its sandbox. Example: p-3k2j9x7w.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ProcessInfo
    """

    return sync_detailed(
        id=id,
        process_id=process_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    id: str,
    process_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[Error | ProcessInfo]:
    """Get a background process

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        process_id (str): Process id, unique within its sandbox. Example: p-3k2j9x7w.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ProcessInfo]
    """

    kwargs = _get_kwargs(
        id=id,
        process_id=process_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    process_id: str,
    *,
    client: AuthenticatedClient,
) -> Error | ProcessInfo | None:
    """Get a background process

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        process_id (str): Process id, unique within its sandbox. Example: p-3k2j9x7w.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ProcessInfo
    """

    return (
        await asyncio_detailed(
            id=id,
            process_id=process_id,
            client=client,
        )
    ).parsed
