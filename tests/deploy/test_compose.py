"""compose.yaml, checked as ``docker compose config`` would and for what a user of it would
notice: a valid Compose file, every service health-checked, the gateway waiting for a healthy
database and cache, the simulators only in the demo profile and wired to the gateway's
defaults, pinned images, no secret written down."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import dockerfile
import yaml

from gateway.cli import build_parser
from gateway.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"

# ${NAME}, ${NAME:-default} (unset or empty), ${NAME-default} (unset), as Compose reads them.
VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}")
SECRET = re.compile(r"SECRET|PASSWORD|TOKEN|API_KEY|CONSUMER_KEY|SIGNATURE_KEY")


def interpolate(node: Any, env: dict[str, str]) -> Any:
    """Compose interpolates each string value once the YAML is read, not the file's text."""
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(value, env) for value in node]
    if not isinstance(node, str):
        return node

    def value(match: re.Match[str]) -> str:
        name, op, default = match["name"], match["op"], match["default"]
        if op == ":-":
            return env.get(name) or default
        if op == "-":
            return env.get(name, default)
        return env.get(name, "")

    done = VARIABLE.sub(value, node)
    assert "$" not in done, f"a variable Compose would not read: {node}"
    return done


def project(env: dict[str, str] | None = None) -> dict[str, Any]:
    """The Compose project as ``docker compose config`` sees it with ``env`` (else nothing
    set): anchors and merge keys resolved, variables interpolated."""
    loaded: dict[str, Any] = interpolate(yaml.safe_load(COMPOSE.read_text()), env or {})
    return loaded


def validate(document: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    checked = tmp_path / "compose.json"
    checked.write_text(json.dumps(document))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(checked),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


SERVICES = project()["services"]


def environment(service: str) -> dict[str, Any]:
    env = SERVICES[service].get("environment", {})
    assert isinstance(env, dict), "environment as a mapping, so anchors can merge it"
    return env


def test_the_file_is_a_valid_compose_file(tmp_path):
    for env in ({}, {"POSTGRES_PASSWORD": "s3cret", "ERP_BASE_URL": "https://erp.example"}):
        checked = validate(project(env), tmp_path)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_schema_check_catches_a_misspelt_key(tmp_path):
    broken = project()
    broken["services"]["gateway"]["healthchek"] = broken["services"]["gateway"].pop("healthcheck")
    checked = validate(broken, tmp_path)
    assert checked.returncode != 0
    assert "healthchek" in checked.stdout + checked.stderr


def test_every_service_is_health_checked():
    assert set(SERVICES) == {"gateway", "worker", "postgres", "redis", "simulators"}
    for name, service in SERVICES.items():
        check = service.get("healthcheck")
        assert check and not check.get("disable"), f"{name} has no health check"
        assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1, name


def test_the_gateway_and_the_worker_start_once_database_and_cache_are_healthy():
    for name in ("gateway", "worker"):
        depends = SERVICES[name]["depends_on"]
        for needed in ("postgres", "redis"):
            assert depends[needed]["condition"] == "service_healthy", (name, needed)
            assert depends[needed].get("required", True), (name, needed)
        env = environment(name)
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://gateway:")
        assert env["DATABASE_URL"].endswith("@postgres:5432/gateway")
        assert env["REDIS_URL"] == "redis://redis:6379/0"
    # One process runs the background loops: the gateway leaves them to the worker.
    assert environment("gateway")["RUN_WORKERS"] == "false"


def test_the_database_password_is_the_one_postgres_is_given():
    env = {"POSTGRES_PASSWORD": "s3cret"}
    services = project(env)["services"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "s3cret"
    assert ":s3cret@postgres:" in services["gateway"]["environment"]["DATABASE_URL"]


def test_the_simulators_run_only_in_the_demo_profile_and_nothing_else_needs_them():
    assert SERVICES["simulators"]["profiles"] == ["demo"]
    for name, service in SERVICES.items():
        if name != "simulators":
            assert "profiles" not in service, f"`docker compose up` would not start {name}"
        for needed, how in (service.get("depends_on") or {}).items():
            assert needed in SERVICES, f"{name} depends on an unknown {needed}"
            if "profiles" in SERVICES[needed]:
                # Without the profile, `docker compose up` would refuse the whole project.
                assert how["required"] is False, f"{name} requires {needed} outside its profile"


def test_in_the_demo_the_gateway_reaches_the_simulators_and_reads_their_node_file():
    command = SERVICES["simulators"]["command"]
    simulators = build_parser().parse_args(command[1:])
    assert simulators.host == "0.0.0.0"  # reachable from the other containers
    expected = {
        "ERP_BASE_URL": simulators.erp_port,
        "WOO_BASE_URL": simulators.woocommerce_port,
        "SQUARE_BASE_URL": simulators.square_port,
        "OMS_BASE_URL": simulators.oms_port,
    }
    for name in ("gateway", "worker"):
        env = environment(name)
        for setting, port in expected.items():
            assert env[setting] == f"http://simulators:{port}", (name, setting)
        assert env["NODES_FILE"] == str(simulators.nodes_file)
        mounted = [v for v in SERVICES[name]["volumes"] if v.startswith("nodes:")]
        assert mounted == [f"nodes:{simulators.nodes_file.parent}:ro"], name
    assert f"nodes:{simulators.nodes_file.parent}" in SERVICES["simulators"]["volumes"]


def test_production_configuration_overrides_the_demo_defaults():
    services = project(
        {"ERP_BASE_URL": "https://erp.example", "NODES_FILE": "", "GATEWAY_PORT": "9000"}
    )["services"]
    env = services["gateway"]["environment"]
    assert env["ERP_BASE_URL"] == "https://erp.example"
    assert env["NODES_FILE"] == ""  # set empty: no node file
    assert services["gateway"]["ports"] == ["127.0.0.1:9000:8000"]


def test_an_empty_nodes_file_setting_means_no_node_file(monkeypatch):
    monkeypatch.setenv("NODES_FILE", "")
    assert Settings(_env_file=None).nodes_file is None


def test_settings_in_a_dot_env_file_reach_the_gateway_and_the_worker_when_there_is_one():
    for name in ("gateway", "worker"):
        assert SERVICES[name]["env_file"] == [{"path": ".env", "required": False}], name


def test_no_secret_is_written_in_the_file():
    for name in ("gateway", "worker"):
        for setting, value in environment(name).items():
            if SECRET.search(setting):
                # Passed through from the environment or .env when set there, else unset.
                assert value is None, f"{name} {setting} has a value in compose.yaml"
    assert environment("gateway")["ERP_API_SECRET"] is None


def test_the_commands_are_the_gateways_own():
    parser = build_parser()
    for name in ("gateway", "worker", "simulators"):
        command = SERVICES[name]["command"]
        assert command[0] == "commerce-gateway"
        parser.parse_args(command[1:])  # an unknown option would exit 2 here
    worker = parser.parse_args(SERVICES["worker"]["command"][1:])
    # Its health check reads the file it touches.
    assert str(worker.heartbeat_file) in " ".join(SERVICES["worker"]["healthcheck"]["test"])


def test_images_are_pinned_and_built_from_the_dockerfiles_targets():
    stages = {
        c.value[2].lower()
        for c in dockerfile.parse_file(str(ROOT / "Dockerfile"))
        if c.cmd.upper() == "FROM" and len(c.value) == 3
    }
    for name, service in SERVICES.items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: {image}"
        if "build" in service:
            assert service["build"]["target"] in stages, name
        else:  # someone else's image: a release (16.10, 7.4.6), not a moving major tag
            assert re.fullmatch(r"\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?", tag), f"{name}: {image}"
    assert SERVICES["gateway"]["build"]["target"] == "production"
    assert SERVICES["worker"]["build"]["target"] == "production"
    assert SERVICES["simulators"]["build"]["target"] == "demo"


def test_the_python_health_checks_compile():
    # The images have no curl: the gateway's, the worker's and the simulators' checks are
    # Python, and a typo in one would show only as a container that never gets healthy.
    checks = {
        name: service["healthcheck"]["test"]
        for name, service in SERVICES.items()
        if service["healthcheck"]["test"][1:3] == ["python", "-c"]
    }
    assert set(checks) == {"gateway", "worker", "simulators"}
    for name, test in checks.items():
        compile(test[3], f"{name} health check", "exec")
