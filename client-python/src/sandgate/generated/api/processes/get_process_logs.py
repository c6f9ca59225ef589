from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.process_logs import ProcessLogs
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: str,
    process_id: str,
    *,
    offset: int | None | Unset = UNSET,
    limit_bytes: int | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_offset: int | None | Unset
    if isinstance(offset, Unset):
        json_offset = UNSET
    else:
        json_offset = offset
    params["offset"] = json_offset

    params["limitBytes"] = limit_bytes

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/sandboxes/{id}/processes/{process_id}/logs".format(
            id=quote(str(id), safe=""),
            process_id=quote(str(process_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | ProcessLogs | None:
    if response.status_code == 200:
        response_200 = ProcessLogs.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | ProcessLogs]:
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
    offset: int | None | Unset = UNSET,
    limit_bytes: int | Unset = UNSET,
) -> Response[Error | ProcessLogs]:
    """Read a process's output

     Output so far, stdout and stderr interleaved as they came: the tail within `limitBytes`, or from
    `offset` on. Continue from `nextOffset`; to follow, use `streamProcessLogs`.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        process_id (str): Process id, unique within its sandbox. Example: p-3k2j9x7w.
        offset (int | None | Unset): Start here; without it, the tail that fits in `limitBytes`.
            An offset past the end of the log (one this log never gave out) answers 400
            `invalid_request` with `details.nextOffset`.
        limit_bytes (int | Unset): At most this many bytes of output (default 1 MiB).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ProcessLogs]
    """

    kwargs = _get_kwargs(
        id=id,
        process_id=process_id,
        offset=offset,
        limit_bytes=limit_bytes,
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
    offset: int | None | Unset = UNSET,
    limit_bytes: int | Unset = UNSET,
) -> Error | ProcessLogs | None:
    """Read a process's output

     Output so far, stdout and stderr interleaved as they came: the tail within `limitBytes`, or from
    `offset` on. Continue from `nextOffset`; to follow, use `streamProcessLogs`.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        process_id (str): Process id, unique within its sandbox. Example: p-3k2j9x7w.
        offset (int | None | Unset): Start here; without it, the tail that fits in `limitBytes`.
            An offset past the end of the log (one this log never gave out) answers 400
            `invalid_request` with `details.nextOffset`.
        limit_bytes (int | Unset): At most this many bytes of output (default 1 MiB).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ProcessLogs
    """

    return sync_detailed(
        id=id,
        process_id=process_id,
        client=client,
        offset=offset,
        limit_bytes=limit_bytes,
    ).parsed


async def asyncio_detailed(
    id: str,
    process_id: str,
    *,
    client: AuthenticatedClient,
    offset: int | None | Unset = UNSET,
    limit_bytes: int | Unset = UNSET,
) -> Response[Error | ProcessLogs]:
    """Read a process's output

     Output so far, stdout and stderr interleaved as they came: the tail within `limitBytes`, or from
    `offset` on. Continue from `nextOffset`; to follow, use `streamProcessLogs`.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        process_id (str): Process id, unique within its sandbox. Example: p-3k2j9x7w.
        offset (int | None | Unset): Start here; without it, the tail that fits in `limitBytes`.
            An offset past the end of the log (one this log never gave out) answers 400
            `invalid_request` with `details.nextOffset`.
        limit_bytes (int | Unset): At most this many bytes of output (default 1 MiB).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ProcessLogs]
    """

    kwargs = _get_kwargs(
        id=id,
        process_id=process_id,
        offset=offset,
        limit_bytes=limit_bytes,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    process_id: str,
    *,
    client: AuthenticatedClient,
    offset: int | None | Unset = UNSET,
    limit_bytes: int | Unset = UNSET,
) -> Error | ProcessLogs | None:
    """Read a process's output

     Output so far, stdout and stderr interleaved as they came: the tail within `limitBytes`, or from
    `offset` on. Continue from `nextOffset`; to follow, use `streamProcessLogs`.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        process_id (str): Process id, unique within its sandbox. Example: p-3k2j9x7w.
        offset (int | None | Unset): Start here; without it, the tail that fits in `limitBytes`.
            An offset past the end of the log (one this log never gave out) answers 400
            `invalid_request` with `details.nextOffset`.
        limit_bytes (int | Unset): At most this many bytes of output (default 1 MiB).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ProcessLogs
    """

    return (
        await asyncio_detailed(
            id=id,
            process_id=process_id,
            client=client,
            offset=offset,
            limit_bytes=limit_bytes,
        )
    ).parsed
