"""``make account ARGS="<command> <email>"``: an operator's actions on one account, against MONGODB_URI.

    deactivate EMAIL     the account can no longer log in (403) and every session ends at once
    reactivate EMAIL     it can log in again (its ended sessions stay ended)
    end-sessions EMAIL   every live session ends (refresh tokens refused, access tokens refused by the
                         authorizer once API Gateway's cache of them expires)
    sessions EMAIL       the account and its sessions: ids and times, never a token or a hash

It runs ``python -m shared.accounts.admin`` with the functions' own code (the layer carries it; no
function imports it), on the database at MONGODB_URI (or MONGODB_URI_SECRET_ARN's) named
MONGODB_DB_NAME. It pings the database first (``shared.data.operator``: within MONGODB_PING_TIMEOUT_MS,
2 s), then works with the functions' timeouts. Exit status 0 done, 1 no such account or the database
unreachable or refusing, 2 a usage error or a bad setting (one line naming the variable).
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TextIO

from shared.accounts.deactivate import deactivate
from shared.accounts.models import UserPublic
from shared.accounts.sessions import SessionRepository
from shared.accounts.users import UserRepository
from shared.errors import DatabaseRefused, ServiceUnavailable

NAME = "make account"
PROG = f'{NAME} ARGS="<command> <email>"'
COMMANDS = ("deactivate", "reactivate", "end-sessions", "sessions")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="An operator's actions on one account.")
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument("email", help="the account's email (any letter case)")
    return parser


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _show(user: UserPublic, out: TextIO) -> None:
    state = "active" if user.is_active else "inactive"
    out.write(f"user {user.id} {user.email} ({state}, registered {_when(user.created_at)})\n")
    sessions = SessionRepository().of_user(user.id)
    out.write(f"{len(sessions)} session(s):\n")
    for s in sessions:
        ended = s.get("ended_at")
        status = "live" if ended is None else f"ended {_when(ended)} ({s.get('end_reason') or 'unknown'})"
        out.write(
            f"  {s['_id']}  created {_when(s.get('created_at'))}  last refresh {_when(s.get('rotated_at'))}"
            f"  expires {_when(s.get('expires_at'))}  {status}\n"
        )


def run(command: str, email: str, out: TextIO) -> int:
    """Do ``command`` on the account of ``email``; the exit status."""
    users = UserRepository()
    found = users.get_by_email(email.strip().lower())
    if found is None:
        sys.stderr.write(f"{NAME}: no account has the email {email}\n")
        return 1
    user: UserPublic = found
    if command == "deactivate":
        deactivate(user.id)
        out.write(f"{user.email}: deactivated; every session ended\n")
    elif command == "reactivate":
        users.reactivate(user.id)
        out.write(f"{user.email}: active again (ended sessions stay ended)\n")
    elif command == "end-sessions":
        ended = SessionRepository().end_all(user.id, reason="operator")
        out.write(f"{user.email}: {ended} live session(s) ended\n")
    else:
        _show(user, out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; the exit status."""
    from pymongo.errors import PyMongoError

    from shared.data.operator import (
        EXIT_UNREACHABLE,
        EXIT_USAGE,
        Unreachable,
        UsageError,
        functions_database,
        one_line,
    )
    from shared.errors import ConfigurationError

    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:  # argparse has printed the usage
        return EXIT_USAGE if e.code else 0
    if not (os.environ.get("JWT_SECRET") or os.environ.get("JWT_SECRET_ARN")):
        # The settings insist on the signing secret every function needs; this tool signs nothing.
        os.environ["JWT_SECRET"] = secrets.token_urlsafe(32)
    # What the repositories log on the way to ServiceUnavailable is for the functions' logs; here the one
    # line below says it (without a handler, logging would print the record to stderr as a second line).
    quiet = logging.getLogger("shared")
    if not any(isinstance(handler, logging.NullHandler) for handler in quiet.handlers):
        quiet.addHandler(logging.NullHandler())
    try:
        with functions_database(NAME, purpose="the database of the accounts"):
            return run(args.command, args.email, sys.stdout)
    except UsageError as e:
        sys.stderr.write(f"{e}\n")
        return EXIT_USAGE
    except ConfigurationError as e:  # a setting read on the way (it names its variable)
        sys.stderr.write(f"{NAME}: {e}\n")
        return EXIT_USAGE
    except Unreachable as e:
        sys.stderr.write(f"{e}\n")
        return EXIT_UNREACHABLE
    except DatabaseRefused as e:  # a user without the rights to these collections, say
        sys.stderr.write(f"{NAME}: {e.reason}\n")
        return EXIT_UNREACHABLE
    except ServiceUnavailable as e:  # the database went away after the first ping
        sys.stderr.write(f"{NAME}: {e.detail}\n")
        return EXIT_UNREACHABLE
    except PyMongoError as e:  # refused on the way, by an error the repositories leave as it is
        sys.stderr.write(one_line(f"{NAME}: {type(e).__name__}: {e}") + "\n")
        return EXIT_UNREACHABLE


if __name__ == "__main__":
    raise SystemExit(main())
