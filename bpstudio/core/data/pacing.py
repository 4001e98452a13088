"""HTTP(S) downloads that give up on a server that stalls, however it stalls.

A socket timeout limits each wait for data, so a server that sends one byte every 2 s never
trips a 30 s timeout: the download would take days. :class:`Pace` adds a minimum-progress rule,
checked on every read of the connection's socket (the status line and headers included): every
window of ``window`` seconds must bring at least ``min_bytes``, or the read fails with
:class:`Stalled`. :func:`open_paced` opens a URL with urllib (redirects, proxies and HTTPS
certificate checks as usual) over sockets that obey such a rule.
"""

from __future__ import annotations

import functools
import http.client
import io
import socket
import time
import urllib.request
from collections.abc import Callable


class Stalled(TimeoutError):
    """A server sent less than the minimum within a window of time."""


class Pace:
    """The rules one download's reads obey: a timeout per read, and a minimum progress.

    Parameters
    ----------
    read_timeout : float
        Most seconds to wait without receiving a byte.
    window : float
        Length in seconds of the windows in which at least ``min_bytes`` must arrive.
    min_bytes : int
        Least number of bytes per window.
    clock : callable, default time.monotonic
        The clock, in seconds.
    """

    def __init__(
        self,
        read_timeout: float,
        window: float,
        min_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.read_timeout, self.window, self.min_bytes = read_timeout, window, min_bytes
        self._clock = clock
        self._window_start = self._last_data = clock()
        self._window_bytes = 0

    def next_wait(self) -> float:
        """Seconds the next read may wait; raises :class:`Stalled` if a window came up short."""
        now = self._clock()
        if now - self._window_start >= self.window:
            if self._window_bytes < self.min_bytes:
                raise Stalled(
                    f"stalled: received {self._window_bytes:,} bytes in {self.window:g} s (a "
                    f"mirror must send at least {self.min_bytes:,} bytes every {self.window:g} s)"
                )
            self._window_start, self._window_bytes = now, 0
        idle_left = self.read_timeout - (now - self._last_data)
        if idle_left <= 0:
            raise TimeoutError(f"no data for {self.read_timeout:g} s")
        return max(min(idle_left, self._window_start + self.window - now), 1e-3)

    def received(self, size: int) -> None:
        """Count ``size`` bytes just received."""
        self._window_bytes += size
        if size:
            self._last_data = self._clock()


class _PacedReader(io.RawIOBase):
    """Reads a socket under a :class:`Pace` (a timeout that cuts a read off is not final)."""

    def __init__(self, sock: socket.socket, pace: Pace) -> None:
        super().__init__()
        self._sock, self._pace = sock, pace
        # Held only for the socket's count of open files: the connection closes its socket
        # once the response has been read, and the socket must stay open while this reads.
        self._ref = sock.makefile("rb", buffering=0)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while True:
            self._sock.settimeout(self._pace.next_wait())
            try:
                got = self._sock.recv_into(buffer)
            except TimeoutError:
                continue  # next_wait() decides: a new window, a stall, or the read timeout
            self._pace.received(got)
            return got

    def close(self) -> None:
        if not self.closed:
            self._ref.close()
        super().close()


class _PacedSocket:
    """A connected socket whose binary read files are paced; everything else is the socket's."""

    def __init__(self, sock: socket.socket, pace: Pace) -> None:
        self._sock, self._pace = sock, pace

    def makefile(self, mode: str = "r", *args, **kwargs):
        if mode != "rb":
            return self._sock.makefile(mode, *args, **kwargs)
        return io.BufferedReader(_PacedReader(self._sock, self._pace))

    def __getattr__(self, name: str):
        return getattr(self._sock, name)


class _PacedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, pace: Pace, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pace = pace

    def connect(self) -> None:
        super().connect()
        self.sock = _PacedSocket(self.sock, self._pace)


class _PacedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, pace: Pace, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pace = pace

    def connect(self) -> None:
        super().connect()  # the TLS handshake runs under the plain timeout
        self.sock = _PacedSocket(self.sock, self._pace)


class _PacedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, pace: Pace) -> None:
        super().__init__()
        self._pace = pace

    def http_open(self, req):
        return self.do_open(functools.partial(_PacedHTTPConnection, pace=self._pace), req)


class _PacedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, pace: Pace) -> None:
        super().__init__()
        self._pace = pace

    def https_open(self, req):
        return self.do_open(functools.partial(_PacedHTTPSConnection, pace=self._pace), req)


def open_paced(request: urllib.request.Request, pace: Pace) -> http.client.HTTPResponse:
    """Open ``request`` as :func:`urllib.request.urlopen` does, with every read under ``pace``.

    Raises what ``urlopen`` raises; a stall while the status line or headers arrive is a
    :class:`urllib.error.URLError` whose ``reason`` is a :class:`Stalled`, and one while the
    body is read is a :class:`Stalled` from the response's ``read``.
    """
    opener = urllib.request.build_opener(_PacedHTTPHandler(pace), _PacedHTTPSHandler(pace))
    return opener.open(request, timeout=pace.read_timeout)
