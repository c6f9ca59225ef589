from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.exec_request import ExecRequest
from ...models.exec_stream_response_200 import ExecStreamResponse200
from ...types import Response


def _get_kwargs(
    id: str,
    *,
    body: ExecRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/sandboxes/{id}/exec/stream".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | ExecStreamResponse200 | None:
    if response.status_code == 200:
        response_200 = ExecStreamResponse200.from_dict(response.text)

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

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | ExecStreamResponse200]:
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
    body: ExecRequest,
) -> Response[Error | ExecStreamResponse200]:
    """Run a command and stream its output

     Server-sent events `stdout`, `stderr`, then one `exit` or `error`; a comment line every 15 s keeps
    idle streams open. Closing the stream kills the command.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        body (ExecRequest):  Example: {'command': 'echo hello && ls -la', 'timeoutMs': 30000}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ExecStreamResponse200]
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
    body: ExecRequest,
) -> Error | ExecStreamResponse200 | None:
    """Run a command and stream its output

     Server-sent events `stdout`, `stderr`, then one `exit` or `error`; a comment line every 15 s keeps
    idle streams open. Closing the stream kills the command.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        body (ExecRequest):  Example: {'command': 'echo hello && ls -la', 'timeoutMs': 30000}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ExecStreamResponse200
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
    body: ExecRequest,
) -> Response[Error | ExecStreamResponse200]:
    """Run a command and stream its output

     Server-sent events `stdout`, `stderr`, then one `exit` or `error`; a comment line every 15 s keeps
    idle streams open. Closing the stream kills the command.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        body (ExecRequest):  Example: {'command': 'echo hello && ls -la', 'timeoutMs': 30000}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ExecStreamResponse200]
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
    body: ExecRequest,
) -> Error | ExecStreamResponse200 | None:
    """Run a command and stream its output

     Server-sent events `stdout`, `stderr`, then one `exit` or `error`; a comment line every 15 s keeps
    idle streams open. Closing the stream kills the command.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        body (ExecRequest):  Example: {'command': 'echo hello && ls -la', 'timeoutMs': 30000}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ExecStreamResponse200
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
        )
    ).parsed
