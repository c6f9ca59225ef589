from http import HTTPStatus
from io import BytesIO
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...types import File, Response


def _get_kwargs(
    snapshot_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/snapshots/{snapshot_id}/archive".format(
            snapshot_id=quote(str(snapshot_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | File | None:
    if response.status_code == 200:
        response_200 = File(payload=BytesIO(response.content))

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

    if response.status_code == 501:
        response_501 = Error.from_dict(response.json())

        return response_501

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | File]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    snapshot_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[Error | File]:
    """Download a snapshot as a tar archive

     A streamed tar of the workspace (paths relative to it): the portable format, which `importSnapshot`
    takes on any backend. Plain tar (`application/x-tar`) unless the request's `Accept` asks for
    `application/zstd` or `application/gzip` (q-values honoured; `application/x-tar` ranked higher
    wins): the archive is then compressed as it streams and the `Content-Type` says which. The local
    runtime makes both; the Cloudflare backend makes gzip only (asked for zstd alone, it answers plain
    tar). Compression is a media type, not a `Content-Encoding`: HTTP clients do not undo it.

    Args:
        snapshot_id (str): Snapshot id. Example: snap-4k2xq7w9m3p5r8ta.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | File]
    """

    kwargs = _get_kwargs(
        snapshot_id=snapshot_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    snapshot_id: str,
    *,
    client: AuthenticatedClient,
) -> Error | File | None:
    """Download a snapshot as a tar archive

     A streamed tar of the workspace (paths relative to it): the portable format, which `importSnapshot`
    takes on any backend. Plain tar (`application/x-tar`) unless the request's `Accept` asks for
    `application/zstd` or `application/gzip` (q-values honoured; `application/x-tar` ranked higher
    wins): the archive is then compressed as it streams and the `Content-Type` says which. The local
    runtime makes both; the Cloudflare backend makes gzip only (asked for zstd alone, it answers plain
    tar). Compression is a media type, not a `Content-Encoding`: HTTP clients do not undo it.

    Args:
        snapshot_id (str): Snapshot id. Example: snap-4k2xq7w9m3p5r8ta.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | File
    """

    return sync_detailed(
        snapshot_id=snapshot_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    snapshot_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[Error | File]:
    """Download a snapshot as a tar archive

     A streamed tar of the workspace (paths relative to it): the portable format, which `importSnapshot`
    takes on any backend. Plain tar (`application/x-tar`) unless the request's `Accept` asks for
    `application/zstd` or `application/gzip` (q-values honoured; `application/x-tar` ranked higher
    wins): the archive is then compressed as it streams and the `Content-Type` says which. The local
    runtime makes both; the Cloudflare backend makes gzip only (asked for zstd alone, it answers plain
    tar). Compression is a media type, not a `Content-Encoding`: HTTP clients do not undo it.

    Args:
        snapshot_id (str): Snapshot id. Example: snap-4k2xq7w9m3p5r8ta.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | File]
    """

    kwargs = _get_kwargs(
        snapshot_id=snapshot_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    snapshot_id: str,
    *,
    client: AuthenticatedClient,
) -> Error | File | None:
    """Download a snapshot as a tar archive

     A streamed tar of the workspace (paths relative to it): the portable format, which `importSnapshot`
    takes on any backend. Plain tar (`application/x-tar`) unless the request's `Accept` asks for
    `application/zstd` or `application/gzip` (q-values honoured; `application/x-tar` ranked higher
    wins): the archive is then compressed as it streams and the `Content-Type` says which. The local
    runtime makes both; the Cloudflare backend makes gzip only (asked for zstd alone, it answers plain
    tar). Compression is a media type, not a `Content-Encoding`: HTTP clients do not undo it.

    Args:
        snapshot_id (str): Snapshot id. Example: snap-4k2xq7w9m3p5r8ta.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | File
    """

    return (
        await asyncio_detailed(
            snapshot_id=snapshot_id,
            client=client,
        )
    ).parsed
