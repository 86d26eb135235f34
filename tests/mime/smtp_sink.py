#!/usr/bin/python3
"""A throwaway SMTP server for the outbox delivery tests (aiosmtpd, loopback only).

    smtp_sink.py DIR [--port P]

Listens on 127.0.0.1 (port P, or a free one when P is 0 or absent), prints `PORT=<n>` on stdout
once it accepts connections, and stores each message it receives as DIR/<n>.eml (the exact
bytes of the DATA, CRLF as received, dot-unstuffed) with DIR/<n>.json holding the envelope
(mail_from, rcpt_tos). Files appear atomically (written under a temporary name, then renamed).
Runs until SIGTERM or SIGINT.
"""
import argparse
import asyncio
import itertools
import json
import os
import signal
import socket
import sys

from aiosmtpd.smtp import SMTP


class NoDelaySMTP(SMTP):
    """aiosmtpd writes a multi-line reply one line per send; without TCP_NODELAY, Nagle and the
    client's delayed ACK add ~40 ms per reply (a real MTA sends the reply in one write)."""

    def connection_made(self, transport):
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    def _write(self, name, data):
        tmp = os.path.join(self.directory, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.directory, name))

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        content = envelope.original_content if envelope.original_content is not None else envelope.content
        self._write(f"{n}.json", json.dumps({"mail_from": envelope.mail_from,
                                             "rcpt_tos": envelope.rcpt_tos}).encode())
        self._write(f"{n}.eml", content)
        return "250 Message accepted for delivery"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.directory, exist_ok=True)
    sink = Sink(args.directory)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: NoDelaySMTP(sink, decode_data=False, hostname="sink.test"), sock=sock)
    print(f"PORT={sock.getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
