"""httpx's default transport against httpx-aiohttp, as the adapters use them.

Same AsyncClient API, same limits, same server (a bare uvicorn endpoint in another process);
what differs is the transport. Prints CPU milliseconds per request in this process (the
gateway's cost) and requests/s, for ``--requests`` GETs at ``--concurrency``.

    .venv/bin/python bench/transport.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from httpx_aiohttp import AiohttpTransport

from bench.harness import free_port, process, uvicorn_args


async def run(
    transport: httpx.AsyncBaseTransport, url: str, requests: int, concurrency: int
) -> tuple[float, float]:
    async with httpx.AsyncClient(transport=transport, timeout=30) as client:
        for _ in range(50):
            await client.get(url)
        queue = iter(range(requests))

        async def worker() -> None:
            for _ in queue:
                response = await client.get(url)
                response.json()

        wall, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - wall, time.process_time() - cpu


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    payload = Path(tempfile.mkdtemp()) / "payload.json"
    payload.write_text(
        json.dumps({"data": [{"item_code": f"SKU-{i}", "actual_qty": i} for i in range(20)]})
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}/graphql"
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    with process(
        uvicorn_args("bench.bare_get_app:app", port),
        env={"BARE_PAYLOAD_FILE": str(payload)},
        ports=[port],
    ):
        results = {}
        for _round in range(2):  # alternate, to even out the machine's noise
            for name, make in (
                ("httpx default", lambda: httpx.AsyncHTTPTransport(limits=limits)),
                ("httpx-aiohttp", lambda: AiohttpTransport(limits=limits)),
            ):
                wall, cpu = await run(make(), url, args.requests, args.concurrency)
                best = results.get(name)
                if best is None or cpu < best[1]:
                    results[name] = (wall, cpu)
    print(f"{args.requests} GETs, {args.concurrency} concurrent, best of 2 rounds")
    print(f"  {'transport':16}{'req/s':>10}{'CPU ms/req':>12}")
    for name, (wall, cpu) in results.items():
        print(f"  {name:16}{args.requests / wall:>10.0f}{cpu / args.requests * 1000:>12.3f}")
    base, alt = results["httpx default"], results["httpx-aiohttp"]
    print(
        f"  httpx-aiohttp CPU per request = {alt[1] / base[1]:.2f}x httpx default; "
        f"throughput = {base[0] / alt[0]:.2f}x"
    )


if __name__ == "__main__":
    asyncio.run(main())
