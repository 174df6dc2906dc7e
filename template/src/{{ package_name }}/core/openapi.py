"""The OpenAPI document tells every error a route can answer, in the one shape errors have.

Whatever can fail a request declares what it raises with `@raises(...)`: a dependency (the
database session, the rate limiter, the bearer token check) or an endpoint (its service's domain
errors). `document_errors` has the app's document built as FastAPI builds it, then walks each
route's dependency tree and writes the statuses found into the route's operation, so a route's
documented errors follow from what it uses and the routers stay free of status lists.
"""

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel

from .errors import (
    AppError,
    OverloadedError,
    PayloadTooLargeError,
    UnreadableBodyError,
    ValidationFailedError,
)
from .limits import NEVER_SHED


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """Every error answer (see `errors.error_body`)."""

    error: ErrorDetail


_Callable = TypeVar("_Callable", bound=Callable[..., Any])
_REF_PREFIX = "#/components/schemas/"
#: What FastAPI declares its 422 with; the error handlers answer `ErrorBody` instead.
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_RAISES: dict[Callable[..., Any], tuple[type[AppError], ...]] = {}


def raises(*errors: type[AppError]) -> Callable[[_Callable], _Callable]:
    """Declare the errors a dependency or an endpoint can raise, for the OpenAPI document."""

    def declare(function: _Callable) -> _Callable:
        _RAISES[function] = _RAISES.get(function, ()) + errors
        return function

    return declare


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for dependency in dependant.dependencies:
        yield from _calls(dependency)


def _has_parameters(dependant: Dependant) -> bool:
    own = (dependant.path_params, dependant.query_params, dependant.header_params)
    return any(own) or any(_has_parameters(sub) for sub in dependant.dependencies)


def _route_errors(route: RouteContext, path: str) -> set[type[AppError]]:
    dependant: Dependant = route.dependant
    errors = {error for call in _calls(dependant) for error in _RAISES.get(call, ())}
    if not path.startswith(NEVER_SHED):
        errors.add(OverloadedError)
    if route.body_field is not None:
        errors.update((PayloadTooLargeError, UnreadableBodyError))
    if route.body_field is not None or _has_parameters(dependant):
        errors.add(ValidationFailedError)
    return errors


def _responses(errors: set[type[AppError]]) -> dict[str, dict[str, Any]]:
    by_status: dict[int, set[str]] = {}
    for error in errors:
        by_status.setdefault(error.status_code, set()).add(error.code)
    content = {"application/json": {"schema": {"$ref": f"{_REF_PREFIX}ErrorBody"}}}
    return {
        str(status): {"description": "Error codes: " + ", ".join(sorted(codes)), "content": content}
        for status, codes in sorted(by_status.items())
    }


def _document_route_errors(app: FastAPI, document: dict[str, Any]) -> None:
    for route in iter_route_contexts(app.routes):
        path, methods = route.path_format, route.methods
        if not (isinstance(route.original_route, APIRoute) and path and methods):
            continue
        responses = _responses(_route_errors(route, path))
        for method in methods:
            operation = document["paths"].get(path, {}).get(method.lower())
            if operation is not None:  # None: a route left out of the document
                success = {
                    code: answer for code, answer in operation["responses"].items() if code < "4"
                }
                operation["responses"] = {**success, **responses}


def document_errors(app: FastAPI) -> None:
    """Have the app's OpenAPI document show each route's errors, in the one error shape.

    FastAPI's document declares a 422 in its own shape and nothing else: each operation gets
    its real error statuses instead, and FastAPI's validation schemas go.
    """
    build = app.openapi
    documented: list[dict[str, Any]] = []  # the document FastAPI built last, once completed

    def openapi() -> dict[str, Any]:
        document = build()  # FastAPI builds it again only when the routes changed
        if documented and documented[0] is document:
            return document
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for name in _FASTAPI_VALIDATION_SCHEMAS:
            schemas.pop(name, None)
        error_schema = ErrorBody.model_json_schema(ref_template=_REF_PREFIX + "{model}")
        schemas.update(error_schema.pop("$defs"), ErrorBody=error_schema)
        _document_route_errors(app, document)
        documented[:] = [document]
        return document

    app.openapi = openapi  # type: ignore[method-assign]
