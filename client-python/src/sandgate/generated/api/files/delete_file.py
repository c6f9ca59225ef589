from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: str,
    *,
    path: str,
    recursive: bool | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["path"] = path

    params["recursive"] = recursive

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/v1/sandboxes/{id}/files".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | Error | None:
    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | Error]:
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
    path: str,
    recursive: bool | Unset = UNSET,
) -> Response[Any | Error]:
    """Delete a file or directory

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        path (str): A path in the sandbox: absolute under /workspace, or relative to /workspace.
            One that names the wrong kind of file for the operation (a directory to read or write, a
            file to list) answers 400 `invalid_request`. Example: /workspace/hello.txt.
        recursive (bool | Unset): Delete a directory and everything in it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Error]
    """

    kwargs = _get_kwargs(
        id=id,
        path=path,
        recursive=recursive,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient,
    path: str,
    recursive: bool | Unset = UNSET,
) -> Any | Error | None:
    """Delete a file or directory

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        path (str): A path in the sandbox: absolute under /workspace, or relative to /workspace.
            One that names the wrong kind of file for the operation (a directory to read or write, a
            file to list) answers 400 `invalid_request`. Example: /workspace/hello.txt.
        recursive (bool | Unset): Delete a directory and everything in it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Error
    """

    return sync_detailed(
        id=id,
        client=client,
        path=path,
        recursive=recursive,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    path: str,
    recursive: bool | Unset = UNSET,
) -> Response[Any | Error]:
    """Delete a file or directory

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        path (str): A path in the sandbox: absolute under /workspace, or relative to /workspace.
            One that names the wrong kind of file for the operation (a directory to read or write, a
            file to list) answers 400 `invalid_request`. Example: /workspace/hello.txt.
        recursive (bool | Unset): Delete a directory and everything in it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Error]
    """

    kwargs = _get_kwargs(
        id=id,
        path=path,
        recursive=recursive,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient,
    path: str,
    recursive: bool | Unset = UNSET,
) -> Any | Error | None:
    """Delete a file or directory

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        path (str): A path in the sandbox: absolute under /workspace, or relative to /workspace.
            One that names the wrong kind of file for the operation (a directory to read or write, a
            file to list) answers 400 `invalid_request`. Example: /workspace/hello.txt.
        recursive (bool | Unset): Delete a directory and everything in it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Error
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            path=path,
            recursive=recursive,
        )
    ).parsed
