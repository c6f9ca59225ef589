from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.create_port_link_request import CreatePortLinkRequest
from ...models.error import Error
from ...models.port_link import PortLink
from ...types import Response


def _get_kwargs(
    id: str,
    *,
    body: CreatePortLinkRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/sandboxes/{id}/port-links".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | PortLink | None:
    if response.status_code == 201:
        response_201 = PortLink.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | PortLink]:
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
    body: CreatePortLinkRequest,
) -> Response[Error | PortLink]:
    """Mint a signed link to a port

     Answers a link to `/v1/sandboxes/{id}/ports/{port}/` that works without a token until it expires
    (HMAC over the sandbox's instance, port and expiry): open it in a browser. The proxy then sets a
    cookie for that port's path. A link minted with a scoped token expires no later than that token, and
    no link outlives its sandbox: one re-created under the same id does not honour it.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        body (CreatePortLinkRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | PortLink]
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
    body: CreatePortLinkRequest,
) -> Error | PortLink | None:
    """Mint a signed link to a port

     Answers a link to `/v1/sandboxes/{id}/ports/{port}/` that works without a token until it expires
    (HMAC over the sandbox's instance, port and expiry): open it in a browser. The proxy then sets a
    cookie for that port's path. A link minted with a scoped token expires no later than that token, and
    no link outlives its sandbox: one re-created under the same id does not honour it.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        body (CreatePortLinkRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | PortLink
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
    body: CreatePortLinkRequest,
) -> Response[Error | PortLink]:
    """Mint a signed link to a port

     Answers a link to `/v1/sandboxes/{id}/ports/{port}/` that works without a token until it expires
    (HMAC over the sandbox's instance, port and expiry): open it in a browser. The proxy then sets a
    cookie for that port's path. A link minted with a scoped token expires no later than that token, and
    no link outlives its sandbox: one re-created under the same id does not honour it.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        body (CreatePortLinkRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | PortLink]
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
    body: CreatePortLinkRequest,
) -> Error | PortLink | None:
    """Mint a signed link to a port

     Answers a link to `/v1/sandboxes/{id}/ports/{port}/` that works without a token until it expires
    (HMAC over the sandbox's instance, port and expiry): open it in a browser. The proxy then sets a
    cookie for that port's path. A link minted with a scoped token expires no later than that token, and
    no link outlives its sandbox: one re-created under the same id does not honour it.

    Args:
        id (str): Sandbox id: lowercase letters, digits and '-'. Example: demo.
        body (CreatePortLinkRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | PortLink
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
        )
    ).parsed
