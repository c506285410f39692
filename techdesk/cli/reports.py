"""`techdesk report visit|client ...` and `techdesk brief CLIENT`."""

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
    p = rs.add_parser("client", help="client report: the latest status of all of a client's hosts, or with "
                                     "--period/--from the care report of a period")
    p.add_argument("name", help="the client")
    p.add_argument("--period", metavar="month|YYYY-MM",
                   help="care report of the last complete month ('month') or of the month given")
    p.add_argument("--from", dest="start", metavar="DATE", help="care report from this day (YYYY-MM-DD)")
    p.add_argument("--to", dest="end", metavar="DATE", help="... to this day, included (default: today)")
    _output_option(p)
    p.set_defaults(func=cmd_report_client)

    p = sub.add_parser("brief", help="before a visit: what to know about a client (and site)")
    p.add_argument("client")
    p.add_argument("--site")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="write a PDF (or .html) instead")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_brief)


def _output_option(p) -> None:
    p.add_argument("-o", "--output", required=True, type=Path, metavar="FILE",
                   help="the file to write; its name ends in .pdf or .html")


def cmd_report_visit(svc: Services, args) -> int:
    print(svc.reports.visit(args.id, args.output, appendix=args.appendix, unticked=not args.hide_unticked))
    return 0


def cmd_report_client(svc: Services, args) -> int:
    if args.period or args.start or args.end:
        from techdesk.reports.period import parse_period

        period = parse_period(args.period, args.start, args.end)
        print(svc.reports.care(args.name, period, args.output))
    else:
        print(svc.reports.client(args.name, args.output))
    return 0


def cmd_brief(svc: Services, args) -> int:
    from techdesk.cli import UsageError

    if args.json and args.output:
        raise UsageError("give either --json or -o FILE, not both")
    if args.output:
        print(svc.reports.briefing(args.client, args.output, site=args.site))
        return 0
    data = svc.reports.briefing_data(args.client, args.site)
    if args.json:
        from techdesk.cli.output import print_json
        from techdesk.reports.briefing import as_json

        print_json(as_json(data))
    else:
        from techdesk.reports.briefing import as_text

        print(as_text(data))
    return 0
