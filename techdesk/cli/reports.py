"""`techdesk report visit ID -o FILE` and `techdesk report client NAME -o FILE`."""

from __future__ import annotations

from pathlib import Path

from techdesk.services.context import Services


def register(sub) -> None:
    report = sub.add_parser("report", help="client-facing reports (PDF or HTML)")
    rs = report.add_subparsers(dest="report_cmd", required=True, metavar="COMMAND")
    p = rs.add_parser("visit", help="the report of a visit, to hand over to the client")
    p.add_argument("id", help="the visit's id (or a unique prefix of it)")
    _output_option(p)
    p.add_argument("--appendix", choices=("problems", "all", "none"), default="problems",
                   help="raw check output in the appendix: of checks not OK (default), all, none")
    p.add_argument("--hide-unticked", action="store_true", help="leave out checklist items not done")
    p.set_defaults(func=cmd_report_visit)
    p = rs.add_parser("client", help="client health report: the latest status of all of a client's hosts")
    p.add_argument("name", help="the client")
    _output_option(p)
    p.set_defaults(func=cmd_report_client)


def _output_option(p) -> None:
    p.add_argument("-o", "--output", required=True, type=Path, metavar="FILE",
                   help="the file to write; its name ends in .pdf or .html")


def cmd_report_visit(svc: Services, args) -> int:
    print(svc.reports.visit(args.id, args.output, appendix=args.appendix, unticked=not args.hide_unticked))
    return 0


def cmd_report_client(svc: Services, args) -> int:
    print(svc.reports.client(args.name, args.output))
    return 0
