from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.stream_process_logs_response_200 import StreamProcessLogsResponse200
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: str,
    process_id: str,
    *,
    offset: int | None | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_offset: int | None | Unset
    if isinstance(offset, Unset):
        json_offset = UNSET
    else:
        json_offset = offset
    params["offset"] = json_offset

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/sandboxes/{id}/processes/{process_id}/logs/stream".format(
            id=quote(str(id), safe=""),
            process_id=quote(str(process_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | StreamProcessLogsResponse200 | None:
    if response.status_code == 200:
        response_200 = StreamProcessLogsResponse200.from_dict(response.text)

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


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | StreamProcessLogsResponse200]:
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
) -> Response[Error | StreamProcessLogsResponse200]:
    """Follow a process's output

     Server-sent events: the output from `offset` (default 0), then new output as it comes, then `exit`
    once the process has ended. Closing the stream does not stop the process; reconnect with `offset`
    set to the last event's `nextOffset` to miss nothing.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        process_id (str): Process id, unique within its sandbox. Example: p-3k2j9x7w.
        offset (int | None | Unset): Replay from here, then follow; 0 (the default) replays
            everything still kept. An offset past the end of the log answers 400 `invalid_request`
            with `details.nextOffset`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | StreamProcessLogsResponse200]
    """

    kwargs = _get_kwargs(
        id=id,
        process_id=process_id,
        offset=offset,
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
) -> Error | StreamProcessLogsResponse200 | None:
    """Follow a process's output

     Server-sent events: the output from `offset` (default 0), then new output as it comes, then `exit`
    once the process has ended. Closing the stream does not stop the process; reconnect with `offset`
    set to the last event's `nextOffset` to miss nothing.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        process_id (str): Process id, unique within its sandbox. Example: p-3k2j9x7w.
        offset (int | None | Unset): Replay from here, then follow; 0 (the default) replays
            everything still kept. An offset past the end of the log answers 400 `invalid_request`
            with `details.nextOffset`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | StreamProcessLogsResponse200
    """

    return sync_detailed(
        id=id,
        process_id=process_id,
        client=client,
        offset=offset,
    ).parsed


async def asyncio_detailed(
    id: str,
    process_id: str,
    *,
    client: AuthenticatedClient,
    offset: int | None | Unset = UNSET,
) -> Response[Error | StreamProcessLogsResponse200]:
    """Follow a process's output

     Server-sent events: the output from `offset` (default 0), then new output as it comes, then `exit`
    once the process has ended. Closing the stream does not stop the process; reconnect with `offset`
    set to the last event's `nextOffset` to miss nothing.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        process_id (str): Process id, unique within its sandbox. Example: p-3k2j9x7w.
        offset (int | None | Unset): Replay from here, then follow; 0 (the default) replays
            everything still kept. An offset past the end of the log answers 400 `invalid_request`
            with `details.nextOffset`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | StreamProcessLogsResponse200]
    """

    kwargs = _get_kwargs(
        id=id,
        process_id=process_id,
        offset=offset,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    process_id: str,
    *,
    client: AuthenticatedClient,
    offset: int | None | Unset = UNSET,
) -> Error | StreamProcessLogsResponse200 | None:
    """Follow a process's output

     Server-sent events: the output from `offset` (default 0), then new output as it comes, then `exit`
    once the process has ended. Closing the stream does not stop the process; reconnect with `offset`
    set to the last event's `nextOffset` to miss nothing.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        process_id (str): Process id, unique within its sandbox. Example: p-3k2j9x7w.
        offset (int | None | Unset): Replay from here, then follow; 0 (the default) replays
            everything still kept. An offset past the end of the log answers 400 `invalid_request`
            with `details.nextOffset`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | StreamProcessLogsResponse200
    """

    return (
        await asyncio_detailed(
            id=id,
            process_id=process_id,
            client=client,
            offset=offset,
        )
    ).parsed
