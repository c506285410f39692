"""`techdesk password ...` and `techdesk hostkeys ...`: credentials and host-key trust."""

from __future__ import annotations

import getpass
import sys

from techdesk.cli.output import print_json, table
from techdesk.secrets import set_secret
from techdesk.services.context import Services


def register(sub) -> None:
    pw = sub.add_parser("password", help="credentials in the OS keyring")
    ps = pw.add_subparsers(dest="password_cmd", required=True, metavar="COMMAND")
    p = ps.add_parser("set", help="store a host's password (read from stdin, or asked on a terminal)")
    p.add_argument("host")
    p.add_argument("--passphrase", action="store_true", help="store the passphrase of the host's key instead")
    p.set_defaults(func=cmd_password_set)

    hk = sub.add_parser("hostkeys", help="trusted SSH host keys")
    hs = hk.add_subparsers(dest="hostkeys_cmd", required=True, metavar="COMMAND")
    p = hs.add_parser("list", help="list trusted host keys")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_hostkeys_list)
    p = hs.add_parser("forget", help="forget a host's trusted key (after checking the new one out of band)")
    p.add_argument("host", help="a roster host name, or ADDRESS[:PORT]")
    p.set_defaults(func=cmd_hostkeys_forget)


def cmd_password_set(svc: Services, args) -> int:
    svc.roster.get(args.host)  # unknown host: a clear error before asking anything
    kind = "passphrase" if args.passphrase else "password"
    if sys.stdin.isatty():
        value = getpass.getpass(f"{kind} for {args.host}: ")
    else:
        value = sys.stdin.readline().rstrip("\r\n")
    set_secret(kind, args.host, value, endpoint=svc.roster.endpoint(args.host))
    print(f"{kind} for {args.host} stored in the system keyring")
    return 0


def cmd_hostkeys_list(svc: Services, args) -> int:
    keys = svc.hostkeys.list()
    if args.json:
        print_json(keys)
        return 0
    print(table([[k["host"], k["type"], k["fingerprint"], k["source"]] for k in keys],
                ["HOST", "TYPE", "FINGERPRINT", "SOURCE"]))
    return 0


def cmd_hostkeys_forget(svc: Services, args) -> int:
    count = svc.hostkeys.forget(args.host)
    print(f"forgot {count} key{'s' if count != 1 else ''} for {args.host}")
    return 0 if count else 1
