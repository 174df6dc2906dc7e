"""A TCP proxy in the test's event loop, between an app and a real service, that a test
switches to fail as servers fail: silent (accepts connections, answers nothing) or gone
(refuses them), and back."""

import asyncio
from contextlib import suppress
from typing import Self

from sqlalchemy import make_url

_CHUNK = 65536


class TcpProxy:
    """Listens on a free local port and forwards to `target` (a URL) while it is healthy."""

    def __init__(self, target: str) -> None:
        url = make_url(target)
        self.target_url = url
        self.target = (url.host or "127.0.0.1", url.port)
        self.port = 0
        self.silent = False
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        """`target` with the proxy in its place."""
        return self.target_url.set(host="127.0.0.1", port=self.port).render_as_string(
            hide_password=False
        )

    async def start(self) -> Self:
        """Listen (on the same port once it has one) and forward."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        """Gone: new connections are refused and open ones dropped."""
        if self._server is not None:
            self._server.close()
        self._drop()

    def silence(self) -> None:
        """Silent: connections are accepted, open ones stay open, and nothing gets through."""
        self.silent = True

    async def heal(self) -> None:
        """Forward again. What went unanswered is lost, so the connections it hit are dropped."""
        self.silent = False
        self._drop()
        if self._server is None or not self._server.is_serving():
            await self.start()

    def _drop(self) -> None:
        for writer in self._links:
            writer.close()
        self._links.clear()

    async def _accept(self, client: asyncio.StreamReader, to_client: asyncio.StreamWriter) -> None:
        self._links.add(to_client)
        if self.silent:
            await self._pipe(client, None)
            return
        with suppress(OSError):
            server, to_server = await asyncio.open_connection(*self.target)
            self._links.add(to_server)
            await asyncio.gather(self._pipe(client, to_server), self._pipe(server, to_client))

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None
    ) -> None:
        with suppress(OSError):
            while data := await reader.read(_CHUNK):
                if writer is not None and not self.silent:
                    writer.write(data)
                    await writer.drain()
        if writer is not None:
            writer.close()
