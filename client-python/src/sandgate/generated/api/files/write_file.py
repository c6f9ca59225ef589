from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.file_info import FileInfo
from ...types import UNSET, File, Response


def _get_kwargs(
    id: str,
    *,
    body: File,
    path: str,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["path"] = path

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/v1/sandboxes/{id}/files/content".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    _kwargs["content"] = body.payload
    headers["Content-Type"] = "application/octet-stream"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | FileInfo | None:
    if response.status_code == 200:
        response_200 = FileInfo.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | FileInfo]:
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
    body: File,
    path: str,
) -> Response[Error | FileInfo]:
    """Upload a file's bytes

     Streams the body to a temporary file and renames it into place, so readers never see half a file.
    Missing parent directories are created.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        path (str): A path in the sandbox: absolute under /workspace, or relative to /workspace.
            One that names the wrong kind of file for the operation (a directory to read or write, a
            file to list) answers 400 `invalid_request`. Example: /workspace/hello.txt.
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | FileInfo]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
        path=path,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient,
    body: File,
    path: str,
) -> Error | FileInfo | None:
    """Upload a file's bytes

     Streams the body to a temporary file and renames it into place, so readers never see half a file.
    Missing parent directories are created.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        path (str): A path in the sandbox: absolute under /workspace, or relative to /workspace.
            One that names the wrong kind of file for the operation (a directory to read or write, a
            file to list) answers 400 `invalid_request`. Example: /workspace/hello.txt.
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | FileInfo
    """

    return sync_detailed(
        id=id,
        client=client,
        body=body,
        path=path,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    body: File,
    path: str,
) -> Response[Error | FileInfo]:
    """Upload a file's bytes

     Streams the body to a temporary file and renames it into place, so readers never see half a file.
    Missing parent directories are created.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        path (str): A path in the sandbox: absolute under /workspace, or relative to /workspace.
            One that names the wrong kind of file for the operation (a directory to read or write, a
            file to list) answers 400 `invalid_request`. Example: /workspace/hello.txt.
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | FileInfo]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
        path=path,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient,
    body: File,
    path: str,
) -> Error | FileInfo | None:
    """Upload a file's bytes

     Streams the body to a temporary file and renames it into place, so readers never see half a file.
    Missing parent directories are created.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        path (str): A path in the sandbox: absolute under /workspace, or relative to /workspace.
            One that names the wrong kind of file for the operation (a directory to read or write, a
            file to list) answers 400 `invalid_request`. Example: /workspace/hello.txt.
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | FileInfo
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
            path=path,
        )
    ).parsed
