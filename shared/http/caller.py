"""Who is calling: what the authorizer put in the request context, never read from the client."""

from __future__ import annotations

from typing import Annotated, cast

from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from shared.accounts.models import UserPublic
from shared.errors import Unauthorized
from shared.http.contract import CONTEXT_SESSION_ID, CONTEXT_USER_ID


def caller_id(request: Request) -> str:
    """The user id the authorizer put in the request context; never read from the client."""
    event = cast(APIGatewayProxyEvent, request.resolved_event)
    authorizer = event.request_context.authorizer
    user_id = authorizer.get(CONTEXT_USER_ID) or authorizer.principal_id
    if not user_id:
        raise Unauthorized()
    return str(user_id)


CallerId = Annotated[str, Depends(caller_id)]


def signed_in(user: UserPublic | None) -> UserPublic:
    """The caller's account; a 401 when it is gone (deleted after the authorizer let the token in)."""
    if user is None:
        raise Unauthorized()
    return user


def caller_session(request: Request) -> str:
    """The session id the authorizer put in the request context (the access token's ``sid``)."""
    event = cast(APIGatewayProxyEvent, request.resolved_event)
    session_id = event.request_context.authorizer.get(CONTEXT_SESSION_ID)
    if not session_id:
        raise Unauthorized()
    return str(session_id)


CallerSession = Annotated[str, Depends(caller_session)]


UNKNOWN_ADDRESS = "unknown"


def client_address(request: Request) -> str:
    """The client's address as API Gateway saw it (``requestContext.identity.sourceIp``): the
    connection's peer, never a header the client could set (X-Forwarded-For is not read)."""
    event = cast(APIGatewayProxyEvent, request.resolved_event)
    return event.request_context.identity.source_ip or UNKNOWN_ADDRESS


ClientAddress = Annotated[str, Depends(client_address)]
