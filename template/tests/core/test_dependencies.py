"""Every endpoint and every dependency runs on the event loop: FastAPI runs a plain `def` in a
worker thread, a thread hop on every request that uses it, and under load a wait for a thread."""

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for dependency in dependant.dependencies:
        yield from _calls(dependency)


def _runs_on_the_event_loop(call: Callable[..., Any]) -> bool:
    # An instance used as a dependency (OAuth2PasswordBearer) is called through `__call__`.
    function = call if inspect.isroutine(call) else type(call).__call__
    return inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)


def test_no_route_runs_anything_in_a_worker_thread(app: FastAPI) -> None:
    routes = [
        route
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
    ]
    assert len(routes) > 10
    in_a_thread = {
        f"{route.path_format}: {getattr(call, '__qualname__', call)}"
        for route in routes
        for call in _calls(route.dependant)
        if not _runs_on_the_event_loop(call)
    }
    assert not in_a_thread
