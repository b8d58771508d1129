"""``commerce-gateway simulators``: the four simulated backends alone, as compose.yaml's demo
profile runs them, with the node file the gateway reads; stopped by SIGTERM with exit 0."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from gateway.domain import SourceSystem
from gateway.nodes import load_node_file
from tests.live_server import free_port

COMMAND = str(Path(sys.executable).with_name("commerce-gateway"))


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sandbox/faults", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def test_the_simulators_serve_the_sample_retailer_and_write_its_node_file(tmp_path):
    ports = [free_port() for _ in range(4)]
    nodes = tmp_path / "nodes" / "nodes.json"
    nodes.parent.mkdir()
    names = ["--erp-port", "--woocommerce-port", "--square-port", "--oms-port"]
    process = subprocess.Popen(
        [COMMAND, "simulators", "--skus", "40", "--stores", "3", "--nodes-file", str(nodes)]
        + [arg for name, port in zip(names, ports, strict=True) for arg in (name, str(port))],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not all(answers(port) for port in ports):
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the simulators did not answer within 60 s"
            time.sleep(0.1)
        # The node file was whole before the first answer (compose starts the gateway then).
        written = load_node_file(nodes)
        kinds = {key[0] for key in written}
        assert kinds == {SourceSystem.ERP, SourceSystem.POS}
        stores = [n for n in json.loads(nodes.read_text())["nodes"] if n["type"] == "STORE"]
        assert len(stores) == 3  # --stores 3, each with its id and Shopify location
        assert all(s["id"].startswith("ST-") and s["oms_location"] for s in stores)
        assert not list(nodes.parent.glob("*.partial"))

        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, out
    assert f"ERPNext :{ports[0]}" in out and f"node file {nodes}" in out
    assert "Traceback" not in out
