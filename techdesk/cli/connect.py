"""`techdesk tunnel`: a local port forward through a host, until Ctrl+C."""

from __future__ import annotations

import asyncio
import signal
import sys

from techdesk.cli import UsageError
from techdesk.services.context import Services


def register(sub) -> None:
    p = sub.add_parser("tunnel", help="forward a port on 127.0.0.1 through a host until Ctrl+C, audited",
                       usage="techdesk tunnel HOST ([LOCAL_PORT:]TARGET_HOST:TARGET_PORT | LABEL) [--save LABEL]\n"
                             "       techdesk tunnel HOST --list [--json]")
    p.add_argument("host", metavar="HOST")
    p.add_argument("spec", metavar="[LOCAL_PORT:]TARGET_HOST:TARGET_PORT", nargs="?",
                   help="e.g. 3389:10.0.0.5:3389 (an RDP desktop behind HOST) or localhost:8080; "
                        "or the label of a tunnel saved with HOST")
    p.add_argument("--save", metavar="LABEL", help="also save this tunnel with the host (the window lists it)")
    p.add_argument("--list", action="store_true", help="list the tunnels saved with HOST")
    p.add_argument("--json", action="store_true", help="with --list: JSON")
    p.set_defaults(func=cmd_tunnel)


def cmd_tunnel(svc: Services, args) -> int:
    from techdesk.services.sessions import SessionError, parse_forward

    svc.roster.get(args.host)
    if args.list:
        saved = svc.tunnels.saved(args.host)
        if args.json:
            from techdesk.cli.output import print_json

            print_json([t.as_json() for t in saved])
        else:
            for t in saved:
                print(f"{t.label}\t{t.spec}")
        return 0
    if not args.spec:
        raise UsageError("say which tunnel: [LOCAL_PORT:]TARGET_HOST:TARGET_PORT or a saved label (--list)")
    try:
        known = svc.tunnels.find(args.host, args.spec)
        spec = known.spec if known is not None else parse_forward(args.spec)
        if args.save:
            svc.tunnels.save(args.host, spec, args.save)
            print(f"saved with {args.host} as {args.save!r}", file=sys.stderr)
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
