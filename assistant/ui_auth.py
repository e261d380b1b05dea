"""Who may open the chat UI: nobody but this machine, unless a password is set.

The UI reads out the documents and can add or remove them, so serving it beyond localhost
without a password would publish the knowledge base. `check_exposure` refuses that.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from assistant.errors import ConfigError

Credentials = list[tuple[str, str]]


def is_local(host: str) -> bool:
    """True for loopback addresses and `localhost`; `0.0.0.0` and `::` mean every interface."""
    if host.strip().lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def parse_auth(value: str, where: str = "--auth") -> tuple[str, str]:
    """`user:password` as a pair; both parts must be non-empty."""
    user, sep, password = value.strip().partition(":")
    if not sep or not user or not password:
        raise ConfigError(f"{where} must look like user:password.",
                          fix="give a user name and a password separated by ':'")
    return user, password


def read_auth_file(path: Path) -> Credentials:
    """One `user:password` per line; blank lines and lines starting with # are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"Cannot read the auth file {path}: {exc.strerror or exc}.",
                          fix="give the path of a file with one user:password per line") from exc
    pairs = [parse_auth(line, f"Line {n} of {path}") for n, line in enumerate(lines, start=1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not pairs:
        raise ConfigError(f"The auth file {path} has no user:password line.",
                          fix="add a line such as alice:some-long-password")
    return pairs


def check_exposure(host: str, auth: Credentials | None) -> None:
    """Refuse to serve on a non-loopback address without credentials."""
    if not is_local(host) and not auth:
        raise ConfigError(
            f"Refusing to serve the chat on {host} without a password: anyone who can reach "
            "it could read and change your documents.",
            fix="add --auth user:password or --auth-file FILE (one user:password per line), "
            "or serve on --host 127.0.0.1",
        )
