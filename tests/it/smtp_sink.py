"""A real SMTP server for the tests (aiosmtpd, Debian package python3-aiosmtpd): listens on a
free port, prints `port N`, then one JSON line per mail received ({to, from, subject, text,
html}). With --fail it refuses every mail with a temporary error. It stops when its stdin
closes, i.e. with the test process."""

import asyncio
import email
import json
import socket
import sys
from email import policy

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, fail: bool):
        self.fail = fail

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.fail:
            return "451 4.3.0 Mailbox temporarily unavailable (test server told to fail)"
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        parts = {}
        for kind in ("plain", "html"):
            body = message.get_body((kind,))
            parts[kind] = body.get_content() if body else None
        print(json.dumps({
            "to": envelope.rcpt_tos,
            "from": envelope.mail_from,
            "subject": str(message["subject"]),
            "text": parts["plain"],
            "html": parts["html"],
        }), flush=True)
        return "250 OK"


def main() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    controller = Controller(Handler("--fail" in sys.argv), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"port {port}", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
