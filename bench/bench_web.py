"""Web speed: ``/`` under a bounded load on loopback, against 200 requests/s with p99 under 100 ms.

The demo organisation (``teamlens demo``'s whole flow: 2,000 people over 26 weeks, both catalogue
reports released; 300 people over 13 weeks with TEAMLENS_BENCH_QUICK=1) is built in a temporary
folder and served by ``teamlens demo-serve`` (uvicorn, one process) on 127.0.0.1; the load signs in as the
demo's analyst first (the report is theirs) and sends that session's cookie with every request.
After one request (the render) and a warm-up, the load is an open loop at a fixed rate: each
request is sent when it is due whether or not earlier ones have answered, at most 64 in flight
(the bound), and its latency counts from when it was due, so a stall shows in the tail instead of
slowing the sender down. Requests ask for gzip, as browsers do. The client (plain asyncio
keep-alive connections, no decoding: far lighter than the server) runs in this process and
shares the machine's two cores with the server.

Baselines in the same run: ``/healthz`` at the same rate (the app's floor: the same middleware
and server with nothing to do), and one render of the report in-process, which is what every
request to ``/`` cost before the page was kept (now paid once per release). Goal (issue 12):
``/`` at 200 requests/s with p99 under 100 ms and no errors.

Run with ``python -m bench web`` (records the figures) or ``python bench/bench_web.py``.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

if __package__ in (None, ""):
    # Run as a script: make the repository root importable so `bench` resolves as a package.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._measure import median_seconds, quick
from teamlens import services
from teamlens.settings import Settings

RATE = 200  # requests per second, the goal's rate
P99_GOAL_MS = 100.0
IN_FLIGHT = 64
FULL, QUICK = (2000, 26, 20.0), (300, 13, 5.0)  # people, weeks, seconds of measured load
WARM_UP_SECONDS = 2.0


@dataclass(frozen=True)
class Load:
    """One fixed-rate run: answered requests' latencies, failures, and CPU time spent per request.

    ``server_cpu_ms``/``client_cpu_ms``: CPU time the server process and this process spent per
    request sent; unlike latencies, they hardly depend on what else runs on the machine.
    """

    path: str
    rate: float
    seconds: float
    latencies_ms: tuple[float, ...]
    errors: int
    server_cpu_ms: float = float("nan")
    client_cpu_ms: float = float("nan")

    @property
    def achieved(self) -> float:
        """Requests answered well per second of the run."""
        return len(self.latencies_ms) / self.seconds

    def percentile(self, share: float) -> float:
        """The latency under which ``share`` of the answered requests fell, in ms."""
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class _Connections:
    """Keep-alive HTTP/1.1 connections to one server, opened as needed, at most ``IN_FLIGHT``.

    A plain asyncio client: it writes a GET and reads the status, the headers and exactly
    ``Content-Length`` bytes, nothing more (no decoding), so that it costs the shared machine far
    less than the server it measures.
    """

    def __init__(self, host: str, port: int, cookie: str = "") -> None:
        self.host, self.port = host, port
        self.cookie = f"Cookie: {cookie}\r\n" if cookie else ""
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.bound = asyncio.Semaphore(IN_FLIGHT)

    async def get(self, path: str) -> int:
        """GET ``path`` asking for gzip; the status code (0 when the connection failed).

        A kept connection the server has closed meanwhile (its keep-alive timeout) is dropped and
        the request sent on another, as browsers do; only a failure on a new connection counts.
        """
        async with self.bound:
            while self.idle:
                status = await self._send(self.idle.pop(), path)
                if status:
                    return status
            return await self._send(await asyncio.open_connection(self.host, self.port), path)

    async def _send(self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], path: str) -> int:
        reader, writer = connection
        try:
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self.cookie}"
                "Accept-Encoding: gzip\r\n\r\n".encode("ascii")
            )
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            length = next(
                int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")
            )
            body = await reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, StopIteration):
            writer.close()
            return 0
        self.idle.append(connection)
        return int(lines[0].split()[1]) if body else 0

    def close(self) -> None:
        """Close every idle connection."""
        for _, writer in self.idle:
            writer.close()


async def _load(base: str, path: str, rate: float, seconds: float, cookie: str) -> Load:
    host, port = base.removeprefix("http://").split(":")
    connections = _Connections(host, int(port), cookie)
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0

    async def one(due: float) -> None:
        nonlocal errors
        if await connections.get(path) == 200:
            latencies.append((time.perf_counter() - due) * 1000)
        else:
            errors += 1

    began = time.perf_counter()
    tasks = []
    for index in range(total):
        due = began + index / rate
        pause = due - time.perf_counter()
        if pause > 0:
            await asyncio.sleep(pause)
        tasks.append(asyncio.create_task(one(due)))
    await asyncio.gather(*tasks)
    elapsed = max(time.perf_counter() - began, seconds)
    connections.close()
    return Load(path, rate, elapsed, tuple(latencies), errors)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(base: str, path: str, rate: float, seconds: float, server: int, cookie: str = "") -> Load:
    """Send ``path`` requests at ``rate`` per second for ``seconds`` to the server of pid ``server``."""
    server_began, client_began = _cpu_seconds(server), time.process_time()
    run = asyncio.run(_load(base, path, rate, seconds, cookie))
    sent = max(len(run.latencies_ms) + run.errors, 1)
    server_ms = (_cpu_seconds(server) - server_began) * 1000 / sent
    client_ms = (time.process_time() - client_began) * 1000 / sent
    return Load(run.path, run.rate, run.seconds, run.latencies_ms, run.errors, server_ms, client_ms)


def _load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "unknown"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(base: str, server: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"teamlens serve stopped with exit code {server.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"teamlens serve did not answer {base}/healthz within {seconds:.0f} s")


def _analyst_cookie(base: str) -> str:
    """Sign in as the demo's analyst (second factor ticked) through the demo identity provider.

    The report is the analyst's: every request of the load carries this session's cookie.
    """
    with httpx.Client(follow_redirects=True, timeout=30.0) as client:
        form = client.get(f"{base}/auth/login")
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.text))
        fields = {name: html.unescape(value) for name, value in fields.items()}
        action = str(form.url.copy_with(path="/authorize", query=None))
        signed_in = client.post(action, data={**fields, "email": services.DEMO_PEOPLE["analyst"], "mfa": "1"})
        if signed_in.status_code != 200 or not client.cookies:
            raise RuntimeError(f"signing in as the demo analyst failed: {signed_in.status_code}")
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def _render_seconds(ws: services.Workspace) -> float:
    def render() -> str:
        policy, tables = services.released_tables(ws)
        return services.render_report(services.build_context(policy, tables))

    return median_seconds(render)


def _row(run: Load, label: str) -> str:
    return (
        f"| {label} | {run.rate:.0f}/s | {run.achieved:.0f}/s | {run.percentile(0.5):.1f} | "
        f"{run.percentile(0.9):.1f} | {run.percentile(0.99):.1f} | {max(run.latencies_ms, default=0):.1f} "
        f"| {run.errors} | {run.server_cpu_ms:.2f} | {run.client_cpu_ms:.2f} |"
    )


def run() -> str:
    """Build the demo, serve it, load ``/`` and ``/healthz``; return the Markdown section."""
    people, weeks, seconds = QUICK if quick() else FULL
    with tempfile.TemporaryDirectory(prefix="teamlens-bench-web-") as folder:
        demo = services.run_demo(Path(folder) / "demo", people=people, weeks=weeks)
        ws = services.Workspace(Settings(data_dir=demo.settings.data_dir, key_file=demo.settings.key_file))
        render = _render_seconds(ws)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        out = Path(folder) / "demo"
        command = [sys.executable, "-m", "teamlens.cli", "demo-serve", "--out", str(out)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with subprocess.Popen(
            [*command, "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        ) as server:
            try:
                _wait_until_up(base, server)
                cookie = _analyst_cookie(f"http://localhost:{port}")
                signed_in = {"cookie": cookie}
                identity = httpx.get(
                    f"{base}/", headers={"accept-encoding": "identity", **signed_in}, timeout=30
                )
                zipped = httpx.get(f"{base}/", headers={"accept-encoding": "gzip", **signed_in}, timeout=30.0)
                if identity.status_code != 200:
                    raise RuntimeError(f"the analyst was answered {identity.status_code} at /")
                wire = int(zipped.headers.get("content-length", len(zipped.content)))
                load(base, "/", RATE, WARM_UP_SECONDS, server.pid, cookie)
                before = _load_average()
                page = load(base, "/", RATE, seconds, server.pid, cookie)
                floor = load(base, "/healthz", RATE, seconds, server.pid)
                after = _load_average()
            finally:
                server.terminate()
                server.wait(timeout=30)
    met = page.errors == 0 and page.achieved >= 0.98 * RATE and page.percentile(0.99) < P99_GOAL_MS
    return "\n".join(
        [
            "## Web: the report page under load",
            "",
            "`teamlens demo-serve` (uvicorn, one process; every request signed in as the analyst) on "
            f"loopback with the demo organisation "
            f"({people:,} people, {weeks} weeks, both catalogue reports released); open-loop load at a "
            f"fixed rate for {seconds:.0f} s after a {WARM_UP_SECONDS:.0f} s warm-up, at most {IN_FLIGHT} "
            "requests in flight, latency counted from when each request was due; the client (plain "
            "asyncio keep-alive connections asking for gzip) shares the machine with the server. "
            "`/healthz` at the same rate is the "
            "app's floor. The CPU columns are the CPU time the server and the client spent per request, "
            "which depend little on what else runs on the machine (1-minute load average "
            f"{before} before the runs and {after} after, on {os.cpu_count()} cores).",
            "",
            "| path | rate asked | answered | p50 ms | p90 ms | p99 ms | max ms | errors | server CPU ms | "
            "client CPU ms |",
            "|---|---|---|---|---|---|---|---|---|---|",
            _row(page, "`/`"),
            _row(floor, "`/healthz` (floor)"),
            "",
            f"- Goal: `/` at {RATE} requests/s with p99 under {P99_GOAL_MS:.0f} ms and no errors: "
            f"**{'met' if met else 'NOT met'}** (p99 {page.percentile(0.99):.1f} ms, "
            f"{page.achieved:.0f} answered/s, {page.errors} errors).",
            f"- CPU per request of `/` on the server: {page.server_cpu_ms:.2f} ms, "
            f"{page.server_cpu_ms / floor.server_cpu_ms:.1f}× the floor's {floor.server_cpu_ms:.2f} ms "
            f"(the sign-in check, the session row, the report's freshness stamp and a larger body), so "
            f"one core serves about {1000 / page.server_cpu_ms:.0f} requests/s of it when nothing else "
            "runs; the latencies above also show what else ran.",
            f"- Before the page was kept, every request rendered it: {render * 1000:.0f} ms of work each "
            f"(median of 3, in-process); now that is paid once per release (and by no request while "
            f"nothing changes).",
            f"- Page size: {len(identity.content) / 1024:,.0f} KiB as HTML, {wire / 1024:,.0f} KiB sent "
            "gzip-compressed (compressed once per render).",
            "",
        ]
    )


if __name__ == "__main__":
    print(run())
