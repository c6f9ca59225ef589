from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.wait_for_port_request import WaitForPortRequest
from ...models.wait_result import WaitResult
from ...types import Response


def _get_kwargs(
    id: str,
    process_id: str,
    *,
    body: WaitForPortRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/sandboxes/{id}/processes/{process_id}/wait-for-port".format(
            id=quote(str(id), safe=""),
            process_id=quote(str(process_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | WaitResult | None:
    if response.status_code == 200:
        response_200 = WaitResult.from_dict(response.json())

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

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    if response.status_code == 504:
        response_504 = Error.from_dict(response.json())

        return response_504

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | WaitResult]:
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
    body: WaitForPortRequest,
) -> Response[Error | WaitResult]:
    """Wait until a process's port accepts connections

     Answers once `port` accepts a connection (and, with `path`, answers that GET with `status`);
    `timeout` past `timeoutMs`, `conflict` when the process ends first.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        process_id (str): Process id, unique within its sandbox. Example: p-3k2j9x7w.
        body (WaitForPortRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | WaitResult]
    """

    kwargs = _get_kwargs(
        id=id,
        process_id=process_id,
        body=body,
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
    body: WaitForPortRequest,
) -> Error | WaitResult | None:
    """Wait until a process's port accepts connections

     Answers once `port` accepts a connection (and, with `path`, answers that GET with `status`);
    `timeout` past `timeoutMs`, `conflict` when the process ends first.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        process_id (str): Process id, unique within its sandbox. Example: p-3k2j9x7w.
        body (WaitForPortRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | WaitResult
    """

    return sync_detailed(
        id=id,
        process_id=process_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    id: str,
    process_id: str,
    *,
    client: AuthenticatedClient,
    body: WaitForPortRequest,
) -> Response[Error | WaitResult]:
    """Wait until a process's port accepts connections

     Answers once `port` accepts a connection (and, with `path`, answers that GET with `status`);
    `timeout` past `timeoutMs`, `conflict` when the process ends first.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        process_id (str): Process id, unique within its sandbox. Example: p-3k2j9x7w.
        body (WaitForPortRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | WaitResult]
    """

    kwargs = _get_kwargs(
        id=id,
        process_id=process_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    process_id: str,
    *,
    client: AuthenticatedClient,
    body: WaitForPortRequest,
) -> Error | WaitResult | None:
    """Wait until a process's port accepts connections

     Answers once `port` accepts a connection (and, with `path`, answers that GET with `status`);
    `timeout` past `timeoutMs`, `conflict` when the process ends first.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        process_id (str): Process id, unique within its sandbox. Example: p-3k2j9x7w.
        body (WaitForPortRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | WaitResult
    """

    return (
        await asyncio_detailed(
            id=id,
            process_id=process_id,
            client=client,
            body=body,
        )
    ).parsed
