"""A real SMTP server that keeps every message it receives, for development and tests.

`make run` starts it (unless EMAIL_URL is set) and points the portal at it, so a newcomer sees
every e-mail the portal sends on the admin's Mailbox page; the tests deliver through it and read
what arrived. Messages go to a Maildir (the standard one-file-per-message folder), which the
mailbox page and the tests read with the standard library's `mailbox` module.

    python -m portal.smtp_catcher --port 1025 --maildir .data/mail

Like `portal.embedded`, it does not import Django.
"""

from __future__ import annotations

import argparse
import mailbox
import signal
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


class MaildirHandler:
    """aiosmtpd handler: each message, as received, into the Maildir."""

    def __init__(self, maildir: Path):
        maildir.parent.mkdir(parents=True, exist_ok=True)
        self.maildir = mailbox.Maildir(str(maildir), create=True)
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = mailbox.MaildirMessage(envelope.original_content or envelope.content)
        with self._lock:
            self.maildir.add(message)
        return "250 Message accepted for delivery"


class Catcher:
    """The server on 127.0.0.1:`port` (0: a free one) writing to `maildir`; a context manager."""

    def __init__(self, maildir: Path, port: int = 0):
        self.maildir = Path(maildir)
        self.controller = Controller(
            MaildirHandler(self.maildir), hostname="127.0.0.1", port=port or _free_port()
        )

    @property
    def port(self) -> int:
        return self.controller.port

    def start(self) -> Catcher:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> Catcher:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def messages(self) -> list[EmailMessage]:
        return read_maildir(self.maildir)


def read_maildir(path: Path | str) -> list[EmailMessage]:
    """The messages of a Maildir, oldest first, parsed with the modern e-mail API."""
    folder = mailbox.Maildir(str(path), create=True)
    stored = sorted(folder.items(), key=lambda item: (item[1].get_date(), item[0]))
    return [message_from_bytes(message.as_bytes(), policy=policy.default) for _key, message in stored]


def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal.smtp_catcher", description=__doc__)
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--maildir", type=Path, required=True)
    options = parser.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with Catcher(options.maildir, options.port) as catcher:
        print(
            f"[mail] SMTP catcher on 127.0.0.1:{catcher.port}, keeping messages in {options.maildir}",
            flush=True,
        )
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
