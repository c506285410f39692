"""`techdesk tunnel`: a local port forward through a host, until Ctrl+C."""

from __future__ import annotations

import asyncio
import signal
import sys

from techdesk.cli import UsageError
from techdesk.services.context import Services


def register(sub) -> None:
    p = sub.add_parser("tunnel", help="forward a port on 127.0.0.1 through a host until Ctrl+C, audited",
                       usage="techdesk tunnel HOST [LOCAL_PORT:]TARGET_HOST:TARGET_PORT")
    p.add_argument("host", metavar="HOST")
    p.add_argument("spec", metavar="[LOCAL_PORT:]TARGET_HOST:TARGET_PORT",
                   help="e.g. 3389:10.0.0.5:3389 (an RDP desktop behind HOST) or localhost:8080")
    p.set_defaults(func=cmd_tunnel)


def cmd_tunnel(svc: Services, args) -> int:
    from techdesk.services.sessions import SessionError, parse_forward

    try:
        spec = parse_forward(args.spec)
        svc.roster.get(args.host)
    except SessionError as exc:
        raise UsageError(str(exc)) from None
    try:
        forward = asyncio.run(svc.sessions.open_forward(args.host, spec.target_host, spec.target_port,
                                                        spec.local_port))
    except SessionError as exc:
        print(f"techdesk: error: {exc}", file=sys.stderr)
        return 1
    target = f"{spec.target_host}:{spec.target_port}"
    print(f"forwarding 127.0.0.1:{forward.port} -> {target} through {args.host} (Ctrl+C stops)", flush=True)
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)  # a service stop ends it cleanly too
    try:
        while not forward.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        forward.stop()  # closes the listener and the connections; writes the audit entry
        signal.signal(signal.SIGTERM, previous)
    print(f"stopped: {forward.connections} connections, {forward.bytes_out} bytes sent, "
          f"{forward.bytes_in} bytes received", file=sys.stderr)
    if forward.dropped:
        print(f"techdesk: error: the connection to {args.host} dropped", file=sys.stderr)
        return 1
    return 0
