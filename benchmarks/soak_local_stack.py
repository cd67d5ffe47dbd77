"""Soak test of the local stack: memory and threads per open workflow, and how fast it stops.

Starts a fresh local stack (`python -m infrastructure.local start --fresh --no-seed`) as a subprocess on free ports,
onboards one partner through the real flow (application, approval link, invitation), then opens workflows in steps:
each step registers `--step` small deals over HTTP (`POST /deals`, approved automatically, each starting its 90-day
protection timer) and `--step-pending` large deals (above DealAutoApproveLimits: a channel manager's approval stays
pending, a waitForTaskToken state with reminder, escalation and expiry). After each step it waits until the deals
are approved / under review and prints the stack process's RSS and thread count (from /proc) and the RSS of its
function workers. Then it holds the stack idle for `--hold-seconds` (sampling every `--sample-seconds`) and finally
sends SIGTERM and prints how long the stack took to exit.

Usage: `.venv/bin/python benchmarks/soak_local_stack.py [--deals 1000] [--pending 200] [--step 100]
[--hold-seconds 600]`; `--quick` = 200 deals + 40 pending in steps of 50, 30 s hold.
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infrastructure.local.people import People, Session  # noqa: E402
from tests.support.factories import deal_body  # noqa: E402
from tests.support.partners import onboard, vendor_admin  # noqa: E402
from tests.support.processes import fresh_stack_command  # noqa: E402

SMALL = 1_200_000  # 12,000.00 USD: approved automatically (DealAutoApproveLimits)
LARGE = 10_000_000  # 100,000.00 USD: a channel manager decides
CLIENTS = 4  # partners' browsers posting at the same time


class RemoteStack:
    """What People needs from a LocalStack, for a stack running in another process."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.api_url = f"{base_url}/api"
        config = requests.get(f"{base_url}/config.json", timeout=10).json()
        self.moto_url = config["cognito"]["endpoint"]
        self._ids = {
            "PartnerUserPool": config["cognito"]["userPoolId"],
            "PortalUserPoolClient": config["cognito"]["clientId"],
        }
        self._clients: dict[str, Any] = {}

    def resource(self, logical_id: str) -> str:
        return str(self._ids[logical_id])

    def client(self, service: str) -> Any:
        import boto3

        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,
                endpoint_url=self.moto_url,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return self._clients[service]

    def mail(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = requests.get(f"{self.base_url}/_mail/api/messages", timeout=30).json()
        return messages


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _status(pid: int) -> dict[str, int]:
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in {"VmRSS", "VmHWM", "Threads"}:
                values[key] = int(value.split()[0])
    return values


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(child) for child in children.read().split()]
    except OSError:
        return []


def measure(pid: int) -> dict[str, float]:
    own = _status(pid)
    workers = [_status(child) for child in _children(pid) if Path(f"/proc/{child}").exists()]
    return {
        "rss_mb": own["VmRSS"] / 1024,
        "peak_mb": own["VmHWM"] / 1024,
        "threads": own["Threads"],
        "workers": len(workers),
        "workers_mb": sum(worker.get("VmRSS", 0) for worker in workers) / 1024,
    }


def register(api_url: str, session: Session, amount: int) -> str:
    for attempt in range(5):
        answer = requests.post(f"{api_url}/deals", json=deal_body(amount=amount), headers=session.headers, timeout=300)
        if answer.status_code == 201:
            return str(answer.json()["deal_id"])
        if answer.status_code not in {429, 502, 503, 504} or attempt == 4:
            raise RuntimeError(f"POST /deals answered {answer.status_code}: {answer.text}")
        time.sleep(1)
    raise AssertionError("unreachable")


def wait_for(api_url: str, session: Session, deal_ids: list[str], status: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(deal_ids)
    with requests.Session() as http:
        while waiting:
            answer = http.get(f"{api_url}/deals/{waiting[0]}", headers=session.headers, timeout=300)
            if answer.status_code == 200 and answer.json()["status"] == status:
                waiting.pop(0)
                continue
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(waiting)} deals not {status} after {timeout:.0f} s")
            time.sleep(0.5)


def line(label: str, opened: tuple[int, int], figures: dict[str, float], extra: str = "") -> None:
    deals, pending = opened
    print(
        f"{label:<14} {deals:>6} {pending:>8} {figures['rss_mb']:>9.0f} {figures['peak_mb']:>8.0f} "
        f"{figures['threads']:>8.0f} {figures['workers']:>8.0f} {figures['workers_mb']:>11.0f}  {extra}",
        flush=True,
    )


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--deals", type=int, default=1000, help="auto-approved deals (protection timers) in total")
    parser.add_argument("--pending", type=int, default=200, help="deals left pending a channel manager in total")
    parser.add_argument("--step", type=int, default=100, help="auto-approved deals per step")
    parser.add_argument("--hold-seconds", type=float, default=600, help="idle time after the last step")
    parser.add_argument("--sample-seconds", type=float, default=60, help="sampling interval while holding")
    parser.add_argument("--quick", action="store_true", help="200 deals + 40 pending in steps of 50, 30 s hold")
    args = parser.parse_args()
    if args.quick:
        args.deals, args.pending, args.step, args.hold_seconds, args.sample_seconds = 200, 40, 50, 30, 10
    return args


def _start_stack(state_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port, moto_port = _free_port(), _free_port()
    command = fresh_stack_command(port=port, moto_port=moto_port, state_dir=state_dir)
    with (state_dir / "stack.out").open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the stack exited with {process.returncode}; see {state_dir / 'stack.out'}")
        try:
            if requests.get(f"{base_url}/config.json", timeout=2).json()["cognito"]["userPoolId"]:
                return process, base_url
        except (requests.RequestException, ValueError, KeyError):
            pass
        time.sleep(0.5)


def _partner(stack: RemoteStack) -> tuple[People, Session]:
    """One onboarded partner (through the real flow) that deals knows, and the product its deals name."""
    people = People(stack)
    partner = onboard(people)
    admin = vendor_admin(people)
    people.api("POST", "/products", session=admin, json={"sku": "NET-FW-100", "name": "Firewall 100", "family": "Sec"})
    deadline = time.monotonic() + 60
    while people.api("GET", "/deals/prospect-check?domain=example.org", session=partner.session).status_code != 200:
        if time.monotonic() > deadline:
            raise TimeoutError("deals never learned about the partner")
        time.sleep(0.3)
    return people, partner.session


def _open_workflows(args: argparse.Namespace, people: People, session: Session, pid: int) -> tuple[int, int]:
    api_url = people.stack.api_url
    steps = max(1, -(-args.deals // args.step))
    pending_per_step = [args.pending // steps + (1 if index < args.pending % steps else 0) for index in range(steps)]
    opened = (0, 0)
    with ThreadPoolExecutor(CLIENTS) as pool:
        for step in range(steps):
            small = min(args.step, args.deals - opened[0])
            large = pending_per_step[step]
            people.refresh(session)  # a run outlives an ID token (IdTokenValidity: 5 minutes)
            clock = time.monotonic()
            amounts = [SMALL] * small + [LARGE] * large
            ids = list(pool.map(lambda amount: register(api_url, session, amount), amounts))
            wait_for(api_url, session, ids[:small], "approved", 600)
            wait_for(api_url, session, ids[small:], "under_review", 600)
            opened = (opened[0] + small, opened[1] + large)
            line(f"step {step + 1}", opened, measure(pid), f"({time.monotonic() - clock:.0f} s)")
    return opened


def main() -> int:
    args = _arguments()
    state_dir = Path(tempfile.mkdtemp(prefix="prm-soak-"))
    started = time.monotonic()
    process, base_url = _start_stack(state_dir)
    try:
        time.sleep(2)  # the prewarmed workers finish their init
        print(f"local stack pid {process.pid} up in {time.monotonic() - started:.1f} s ({state_dir})")
        stack = RemoteStack(base_url)
        people, session = _partner(stack)
        print(
            f"\n{'':<14} {'deals':>6} {'pending':>8} {'RSS MB':>9} {'peak MB':>8} {'threads':>8} {'workers':>8} "
            f"{'workers MB':>11}  (stack process; its function workers separately)"
        )
        line("baseline", (0, 0), measure(process.pid))
        opened = _open_workflows(args, people, session, process.pid)
        held = 0.0
        while held < args.hold_seconds:
            pause = min(args.sample_seconds, args.hold_seconds - held)
            time.sleep(pause)
            held += pause
            line(f"idle {held:.0f} s", opened, measure(process.pid))
        threads = measure(process.pid)["threads"]
        clock = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=120)
            print(f"\nSIGTERM with {threads:.0f} threads: exited with {code} in {time.monotonic() - clock:.1f} s")
        except subprocess.TimeoutExpired:
            print("\nSIGTERM: still running after 120 s; killed")
        return 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


if __name__ == "__main__":
    raise SystemExit(main())
