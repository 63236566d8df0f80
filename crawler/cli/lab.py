"""``darkcrawl lab up|down|status``: the private Tor network on loopback, for the demo, the tests and training.

Documentation: docs/lab.md. The work is done by :mod:`crawler.lab.network`; this module parses the command line and
prints.
"""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, add_command_group, add_json_option, print_answer, sayer

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from crawler.lab.network import Lab, LabStatus
    from crawler.lab.state import LabState

say = sayer("lab")


def register(subparsers: Any) -> None:
    actions = add_command_group(
        subparsers, "lab",
        help="private Tor network on loopback serving the fixture sites as onions",
        description="A private Tor network on 127.0.0.1 (3 authorities, 3 relays, a client, v3 onion services "
        "serving the fixture sites). Its processes outlive the command; `down` stops them.",
    )
    up = add_command(actions, "up", run_up,
                     help="start the lab (harmless if running) and wait until every onion answers")
    add_json_option(up, "print the lab's ports and onions as JSON on stdout")
    add_command(actions, "down", run_down, help="stop every process of the lab (keys and logs are kept)")
    status = add_command(actions, "status", run_status,
                         help="per process up/down, client bootstrap, each onion reachable or not")
    add_json_option(status, "print the status as JSON")
    status.add_argument("--no-fetch", action="store_true", help="do not fetch the onions (faster)")


def lab_from_settings(args: argparse.Namespace, settings: BaseSettings) -> Lab:
    """The lab the settings describe, its progress said on stderr; stem's and httpx's per-request chatter is
    hidden unless ``-v``."""
    if not getattr(args, "verbose", False):  # per-request chatter; the lab prints its own progress
        from stem.util import log as stem_log  # stem sets its logger's level when imported, so import it first

        stem_log.get_logger().setLevel(logging.WARNING)
        logging.getLogger("httpx").setLevel(logging.WARNING)
    from crawler.lab.network import Lab, LabConfig

    return Lab(LabConfig.from_settings(settings), say=say)


def run_up(args: argparse.Namespace, settings: BaseSettings) -> int:
    state = lab_from_settings(args, settings).up()
    if args.json:
        print_answer(True, state.to_json(), lambda: "", sort_keys=True)
    else:
        print_summary(state)
    return 0


def run_down(args: argparse.Namespace, settings: BaseSettings) -> int:
    lab_from_settings(args, settings).down()
    return 0


def run_status(args: argparse.Namespace, settings: BaseSettings) -> int:
    report = lab_from_settings(args, settings).status(check_onions=not args.no_fetch)
    if args.json:
        print_answer(True, report.to_json(), lambda: "", sort_keys=True)
    else:
        print_status(report)
    return 0 if report.healthy or (args.no_fetch and report.running and report.bootstrap == 100) else 1


def print_summary(state: LabState) -> None:
    width = max(len(site) for site in state.onions)
    print(f"lab running in {state.lab_dir}")
    for site, hostname in state.onions.items():
        print(f"  {site:<{width}}  http://{hostname}/")
    extra = ", ".join(str(port) for port in state.extra_socks_ports) or "none"
    print(f"SOCKS 127.0.0.1:{state.socks_port} (IsolateSOCKSAuth; extra SOCKS ports: {extra})")
    print(f"control 127.0.0.1:{state.control_port} (cookie: {state.control_cookie_path})")
    first = next(iter(state.onions.values()))
    print(f"try: curl --socks5-hostname 127.0.0.1:{state.socks_port} http://{first}/")


def print_status(report: LabStatus) -> None:
    if not report.nodes:
        print(f"lab in {report.lab_dir}: not running (start it with `darkcrawl lab up`)")
        return
    up = sum(node.up for node in report.nodes)
    print(f"lab in {report.lab_dir}: {'running' if report.running else 'DEGRADED'} ({up} of {len(report.nodes)} up)")
    for node in report.nodes:
        print(f"  {node.name:<18} {node.role:<9} pid {node.pid:<8} {'up' if node.up else 'DOWN'}")
    bootstrap = "no answer" if report.bootstrap is None else f"bootstrapped {report.bootstrap}%"
    print(f"client: {bootstrap}; SOCKS 127.0.0.1:{report.socks_port}, control 127.0.0.1:{report.control_port}")
    for onion in report.onions:
        if onion.reachable:
            verdict = f"reachable ({onion.status}, {onion.seconds:.2f} s)"
        elif onion.status:
            verdict = f"UNREACHABLE (HTTP {onion.status})"
        elif onion.error:
            verdict = f"UNREACHABLE ({onion.error})"
        else:
            verdict = "not checked"
        print(f"  {onion.site:<18} http://{onion.hostname}/  {verdict}")
