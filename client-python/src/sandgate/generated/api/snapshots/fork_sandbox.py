from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.fork_request import ForkRequest
from ...models.fork_result import ForkResult
from ...types import Response


def _get_kwargs(
    id: str,
    *,
    body: ForkRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/sandboxes/{id}/fork".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | ForkResult | None:
    if response.status_code == 201:
        response_201 = ForkResult.from_dict(response.json())

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

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Error.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Error.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Error.from_dict(response.json())

        return response_415

    if response.status_code == 431:
        response_431 = Error.from_dict(response.json())

        return response_431

    if response.status_code == 500:
        response_500 = Error.from_dict(response.json())

        return response_500

    if response.status_code == 501:
        response_501 = Error.from_dict(response.json())

        return response_501

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | ForkResult]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    body: ForkRequest,
) -> Response[Error | ForkResult]:
    """Copy a sandbox into 1 to 100 new ones

     Takes one snapshot of the sandbox's workspace (a consistent cut), then creates `count` sandboxes
    from it, each with that workspace and its own id, environment and processes (none run at first). All
    or nothing: if one cannot be made, none is left. The snapshot is deleted afterwards unless
    `keepSnapshot` (then it is answered as `snapshot`).

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        body (ForkRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ForkResult]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient,
    body: ForkRequest,
) -> Error | ForkResult | None:
    """Copy a sandbox into 1 to 100 new ones

     Takes one snapshot of the sandbox's workspace (a consistent cut), then creates `count` sandboxes
    from it, each with that workspace and its own id, environment and processes (none run at first). All
    or nothing: if one cannot be made, none is left. The snapshot is deleted afterwards unless
    `keepSnapshot` (then it is answered as `snapshot`).

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        body (ForkRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ForkResult
    """

    return sync_detailed(
        id=id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    body: ForkRequest,
) -> Response[Error | ForkResult]:
    """Copy a sandbox into 1 to 100 new ones

     Takes one snapshot of the sandbox's workspace (a consistent cut), then creates `count` sandboxes
    from it, each with that workspace and its own id, environment and processes (none run at first). All
    or nothing: if one cannot be made, none is left. The snapshot is deleted afterwards unless
    `keepSnapshot` (then it is answered as `snapshot`).

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        body (ForkRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ForkResult]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient,
    body: ForkRequest,
) -> Error | ForkResult | None:
    """Copy a sandbox into 1 to 100 new ones

     Takes one snapshot of the sandbox's workspace (a consistent cut), then creates `count` sandboxes
    from it, each with that workspace and its own id, environment and processes (none run at first). All
    or nothing: if one cannot be made, none is left. The snapshot is deleted afterwards unless
    `keepSnapshot` (then it is answered as `snapshot`).

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        body (ForkRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ForkResult
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
        )
    ).parsed
