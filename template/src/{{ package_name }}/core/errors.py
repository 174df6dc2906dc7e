"""Domain errors and the handlers that turn every error into the contract's one JSON shape."""

import logging
from typing import Any, ClassVar

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.status import HTTP_405_METHOD_NOT_ALLOWED

logger = logging.getLogger(__name__)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


class AppError(Exception):
    """An error a client can act on; subclasses fix the status, the code and the message."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    message: ClassVar[str] = "The request cannot be processed."
    #: Whether the request's transaction commits although the request fails with this error:
    #: for refusals whose record must outlive them (a wrong code counted, a reused token's
    #: session revoked, a failed sign-in in the audit trail).
    keeps_changes: ClassVar[bool] = False

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail = message or self.message
        self.details = details
        self.headers = headers
        #: What the request left for after its answer (mail above all), set when the request's
        #: changes were committed all the same (`keeps_changes`): it runs after this answer too.
        self.after_answer: BackgroundTasks | None = None
        super().__init__(self.detail)


class ConflictError(AppError):
    status_code = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class ServiceUnavailableError(AppError):
    status_code = 503
    code = "service_unavailable"
    message = "The service is temporarily unavailable; try again shortly."


class OverloadedError(ServiceUnavailableError):
    code = "overloaded"
    message = "The service has more requests than it can answer quickly; try again shortly."


class DatabaseUnavailableError(ServiceUnavailableError):
    """The database is down, or failed the request transiently (a deadlock, a lock timeout)."""

    code = "database_unavailable"
    message = "The database could not serve the request; try again shortly."


class DatabaseBusyError(ServiceUnavailableError):
    code = "database_busy"
    message = "The service is busy; try again shortly."


class InvalidValueError(AppError):
    """A value the schema let through but the database cannot store or compare."""

    status_code = 422
    code = "invalid_value"
    message = "A value in the request cannot be stored; check its range and format."


class ValidationFailedError(AppError):
    """The request's parameters or body do not match the schema (FastAPI's validation)."""

    status_code = 422
    code = "validation_error"
    message = "The request is invalid."


class UnreadableBodyError(AppError):
    """A body FastAPI cannot decode at all (bytes that are not UTF-8 text, say): what the OpenAPI
    document names for the 400 FastAPI answers then, through its own exception."""

    code = "bad_request"
    message = "There was an error parsing the body"


class PayloadTooLargeError(AppError):
    """The body is over the size limit. What the OpenAPI document names for the 413 that
    `limits.BodySizeLimitMiddleware` answers (through FastAPI's own exception, see there)."""

    status_code = 413
    code = "payload_too_large"
    message = "The request body is larger than this service accepts."


class RedisUnavailableError(ServiceUnavailableError):
    """Rate limits and token revocation live in Redis; without it, they fail closed."""

    code = "redis_unavailable"
    message = "A service this request needs is unavailable; try again shortly."


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: PayloadTooLargeError.code,
    415: "unsupported_media_type",
}


def error_response(exc: Exception) -> JSONResponse:
    """The contract's response for any exception; the unexpected ones reveal nothing."""
    match exc:
        case AppError():
            return JSONResponse(
                error_body(exc.code, exc.detail, exc.details),
                status_code=exc.status_code,
                headers=exc.headers,
                background=exc.after_answer,
            )
        case RequestValidationError():
            # Where, what and why only: the offending input may be a password, so never echo it.
            details = [
                {
                    "field": ".".join(str(part) for part in error["loc"]),
                    "message": error["msg"],
                    "type": error["type"],
                }
                for error in exc.errors()
            ]
            return error_response(ValidationFailedError(details=details))
        case StarletteHTTPException():
            code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
            message = exc.detail if isinstance(exc.detail, str) else "The request is invalid."
            return JSONResponse(
                error_body(code, message), status_code=exc.status_code, headers=exc.headers
            )
        case PoolTimeoutError():
            logger.warning("no database connection free within the pool timeout")
            return error_response(DatabaseBusyError(headers={"Retry-After": "1"}))
        # What input can make the database refuse: its 4xx, never a 500. The statement and its
        # values stay out of the answer and the log.
        case DataError():
            logger.warning("database refused a value: %s", type(exc.orig).__name__)
            return error_response(InvalidValueError())
        case IntegrityError():
            logger.warning("database constraint refused a change: %s", type(exc.orig).__name__)
            return error_response(ConflictError())
        case OperationalError():
            logger.warning("database operational error: %s", type(exc.orig).__name__)
            return error_response(DatabaseUnavailableError(headers={"Retry-After": "5"}))
        case RedisConnectionError() | RedisTimeoutError():
            logger.warning("redis unavailable: %s", type(exc).__name__)
            return error_response(RedisUnavailableError(headers={"Retry-After": "5"}))
        case _:
            body = error_body("internal_error", "An unexpected error occurred.")
            return JSONResponse(body, status_code=500)


def allowed_methods(request: Request) -> set[str]:
    """Every method a route on the request's path takes. The router's own 405 names only those
    of the first route whose path matched, where one path may be several routes' (GET, PATCH
    and DELETE /users/me are three, and /users/{user_id} matches it too)."""
    path = request.scope["path"].removeprefix(request.scope.get("root_path", ""))
    return {
        method
        for route in iter_route_contexts(request.app.routes)
        if route.methods and route.path_regex.match(path)
        for method in route.methods
    }


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, StarletteHTTPException) and exc.status_code == HTTP_405_METHOD_NOT_ALLOWED:
        allow = ", ".join(sorted(allowed_methods(request)))
        exc = StarletteHTTPException(405, exc.detail, {**(exc.headers or {}), "Allow": allow})
    return error_response(exc)


def register_error_handlers(app: FastAPI) -> None:
    """Unexpected errors are answered by `RequestContextMiddleware`, which also logs them; the
    database's operational errors by `transactions.RetryLostTransactionsMiddleware`, which
    first tries again a transaction that lost to a concurrent one."""
    for handled in (
        AppError,
        RequestValidationError,
        StarletteHTTPException,
        PoolTimeoutError,
        DataError,
        IntegrityError,
        RedisConnectionError,
        RedisTimeoutError,
    ):
        app.add_exception_handler(handled, _handle)
