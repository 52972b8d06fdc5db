"""``netqa watch`` — live KPIs and threshold alerts while logs are being written."""

from __future__ import annotations

from netqa.commands import POSITIVE, time_zone

NAME = "watch"
HELP = "live KPIs and threshold alerts while logs are being written"
EXAMPLE = """
netqa watch /data/drive-today --profile lte --interval-s 5 --alerts alerts.jsonl
"""


def add_arguments(parser) -> None:
    parser.add_argument("dir", metavar="DIR", help="folder the drive-test tool writes logs into")
    parser.add_argument("--profile", default="lte", metavar="lte|nr|FILE.toml", help="threshold profile (default: lte)")
    parser.add_argument("--interval-s", type=POSITIVE, default=5.0, help="update interval [s] (default 5)")
    parser.add_argument("--alerts", metavar="ALERTS.jsonl", help="append alerts as JSON lines")
    parser.add_argument("--format", default="auto", metavar="auto|netqa|gnettrack|networksurvey|MAPPING.toml", help="log format (default: auto-detect)")
    parser.add_argument("--tz", type=time_zone, metavar="ZONE", help="time zone of local timestamps, e.g. Europe/Dublin")
    parser.add_argument("--max-s", type=POSITIVE, help="stop by itself after this many seconds (default: until Ctrl-C)")


def run(args) -> int:
    from netqa.watch import watch

    summary = watch(args.dir, args.profile, args.interval_s, args.alerts, emit=lambda line: print(line, flush=True),
                    max_s=args.max_s, fmt=args.format, tz=args.tz)
    rate = lambda v: "null" if v is None else f"{v:.3f}"  # noqa: E731
    print(f"watch summary: files {summary['files']}, read {summary['n_read']}, accepted {summary['n_accepted']}, "
          f"rejected {summary['n_rejected']}; coverage_rate {rate(summary['coverage_rate'])}, drop_rate {rate(summary['drop_rate'])}, "
          f"ho_success_rate {rate(summary['ho_success_rate'])}; alerts {summary['n_alerts']}", flush=True)
    return 0
