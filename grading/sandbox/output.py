"""Reading a run's output: the pipe is always drained, only a capped part of it is kept."""

from __future__ import annotations

import os
import threading

# How much of the end of the output is kept when the output is cut.
_TAIL_BYTES = 4096
_READ_CHUNK = 1 << 16


class OutputReader(threading.Thread):
    """Drain one pipe; keep the first bytes and the last few KiB, count the rest."""

    def __init__(self, fd: int, cap: int) -> None:
        super().__init__(name="sandbox-output", daemon=True)
        self._fd = fd
        self._cap = cap
        self._tail_keep = min(_TAIL_BYTES, cap // 4)
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0

    def run(self) -> None:
        try:
            while True:
                chunk = os.read(self._fd, _READ_CHUNK)
                if not chunk:
                    return
                self._keep(chunk)
        except OSError:
            return

    def _keep(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self._cap - len(self._head)
        if room > 0:
            self._head += chunk[:room]
        if self._tail_keep:
            self._tail += chunk
            if len(self._tail) > 4 * self._tail_keep + _READ_CHUNK:
                del self._tail[: -self._tail_keep]

    @property
    def truncated(self) -> bool:
        return self.total > self._cap

    def text(self) -> str:
        """What was kept, decoded; when cut, the start, a marker line and the end."""
        if not self.truncated:
            data = bytes(self._head)
        elif self._tail_keep == 0:
            data = bytes(self._head[: self._cap])
        else:
            head_keep = self._cap - self._tail_keep
            omitted = self.total - head_keep - self._tail_keep
            marker = f"\n[... {omitted:,} bytes of output omitted ...]\n".encode()
            data = bytes(self._head[:head_keep]) + marker + bytes(self._tail[-self._tail_keep :])
        return data.decode("utf-8", errors="replace")
