"""A fast counting mail server for the notify benchmark and the million-subscriber test: aiosmtpd on 127.0.0.1, in
its own process, that keeps nothing but how many messages each recipient was sent.

aiosmtpd reads the DATA of a message line by line (a coroutine step per line: ~80 per notice), which makes it, not
the client, the slowest part of a local campaign. This server reads DATA up to the final dot in one step (the
lines are not looked at: nothing is kept), and it offers PIPELINING (RFC 2920), as real mail servers do.

    python -m policy_site.bench.smtpsink PORT COUNTS_FILE     serves until SIGTERM, then writes COUNTS_FILE

COUNTS_FILE (JSON): {"messages": total, "recipients": distinct recipients, "repeated": {address: count} for the
recipients sent more than one message}. CountingSink(port).start() / .stop() → that dict, from another process.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope

END = b"\r\n.\r\n"


class _Counting(SMTP):
    """An SMTP session whose DATA is read in one step and counted per recipient."""

    counts: Counter = Counter()

    async def smtp_DATA(self, arg: str) -> None:
        if await self.check_helo_needed():
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        tail = b""
        while True:  # up to CRLF.CRLF, in chunks (never a line at a time, never the whole message kept)
            chunk = await self._reader.read(65536)
            if not chunk:
                return
            tail = (tail + chunk)[-len(END):]
            if tail == END:
                break
        for address in self.envelope.rcpt_tos:
            _Counting.counts[address.lower()] += 1
        self.envelope = Envelope()
        await self.push("250 OK counted")


class _Handler:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # aiosmtpd reads commands as a
        session.host_name = hostname  # stream, so it serves a pipelining client; it just does not say so
        return [*responses[:-1], "250-PIPELINING", responses[-1]]


def serve(port: int, counts_file: Path) -> None:
    """Serve on 127.0.0.1:port until SIGTERM, then write the counts."""
    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
        server = await loop.create_server(lambda: _Counting(_Handler(), hostname="sink.localhost"),
                                          "127.0.0.1", port)
        print("ready", flush=True)
        await stop
        server.close()

    asyncio.run(main())
    counts = _Counting.counts
    counts_file.write_text(json.dumps({"messages": sum(counts.values()), "recipients": len(counts),
                                       "repeated": {a: n for a, n in counts.items() if n > 1}}))


class CountingSink:
    """The server in a child process: start() waits until it listens; stop() ends it and returns the counts."""

    def __init__(self, port: int, folder: Path) -> None:
        self.port, self.counts_file = port, folder / f"sink-{port}.json"
        self.process: subprocess.Popen | None = None

    def start(self) -> CountingSink:
        self.process = subprocess.Popen([sys.executable, "-m", "policy_site.bench.smtpsink", str(self.port),
                                         str(self.counts_file)], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            self.process.kill()
            raise RuntimeError("the counting SMTP server did not start")
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def stop(self) -> dict:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        return json.loads(self.counts_file.read_text())


if __name__ == "__main__":
    serve(int(sys.argv[1]), Path(sys.argv[2]))
