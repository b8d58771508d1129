"""The Dockerfile, read by BuildKit's own parser: a pinned base, the dependencies in a layer
of their own before the source, a health check, an unprivileged user, and no simulators in
the production image (the default target)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import dockerfile

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


@dataclass
class Stage:
    name: str
    base: str
    commands: list[dockerfile.Command] = field(default_factory=list)


def stages() -> list[Stage]:
    found: list[Stage] = []
    for command in dockerfile.parse_file(str(ROOT / "Dockerfile")):
        if command.cmd.upper() == "FROM":
            base, *rest = command.value
            name = rest[1].lower() if len(rest) == 2 and rest[0].upper() == "AS" else ""
            found.append(Stage(name, base))
        else:
            assert found, f"{command.original} before any FROM"
            found[-1].commands.append(command)
    return found


STAGES = stages()
BY_NAME = {stage.name: stage for stage in STAGES}


def chain(name: str) -> list[dockerfile.Command]:
    """Every instruction an image of this target is built from, base stages first."""
    stage = BY_NAME[name]
    inherited = chain(stage.base.lower()) if stage.base.lower() in BY_NAME else []
    return inherited + stage.commands


def of(commands: list[dockerfile.Command], kind: str) -> list[dockerfile.Command]:
    return [c for c in commands if c.cmd.upper() == kind]


def copied(command: dockerfile.Command) -> list[str]:
    return [source.rstrip("/") for source in command.value[:-1]]


def test_the_default_target_is_the_production_image():
    assert STAGES[-1].name == "production"  # `docker build .` builds the last stage
    assert {"base", "demo", "production"} <= set(BY_NAME)


def test_the_base_image_is_pinned_to_a_patch_release():
    external = [s.base for s in STAGES if s.base.lower() not in BY_NAME]
    assert external
    for image in external:
        repository, _, tag = image.partition("@")[0].rpartition(":")
        assert repository and tag != "latest", image
        assert re.match(r"\d+\.\d+\.\d+-", tag), f"{image}: not a patch release"
    # The Python the project declares it needs.
    required = PYPROJECT["project"]["requires-python"].removeprefix(">=")
    assert all(i.startswith(f"python:{required}.") for i in external), external


def test_dependencies_are_installed_before_the_source_is_copied():
    for target in ("production", "demo"):
        commands = chain(target)
        deps = next(
            i for i, c in enumerate(commands) if c.cmd.upper() == "RUN" and "-r " in c.value[0]
        )
        copies = [(i, copied(c)) for i, c in enumerate(commands) if c.cmd.upper() == "COPY"]
        # Before it, pyproject.toml alone: a change to the source or the README reuses it.
        assert [sources for i, sources in copies if i < deps] == [["pyproject.toml"]], target
        first_source = min(i for i, sources in copies if "gateway" in sources)
        assert deps < first_source, target
        # The project itself then goes in without touching them.
        install = [c.value[0] for c in of(commands[first_source:], "RUN")]
        assert any("pip install --no-deps ." in run for run in install), target


def test_the_dependency_layer_installs_exactly_the_declared_dependencies(tmp_path):
    # Given the layer's command, run as the build runs it, next to pyproject.toml alone
    [run] = [c.value[0] for c in of(chain("production"), "RUN") if "-r " in c.value[0]]
    listing = run.split("&&")[0].strip()
    assert listing.startswith("python -c ")
    out = tmp_path / "requirements.txt"
    shell = listing.replace("python", sys.executable, 1).replace("/tmp/requirements.txt", str(out))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    subprocess.run(["sh", "-c", shell], cwd=tmp_path, check=True)
    # Then pip is given the project's dependencies, one a line, and nothing else
    assert out.read_text().splitlines() == PYPROJECT["project"]["dependencies"]


def test_the_production_image_holds_no_simulators():
    sources = [s for c in of(chain("production"), "COPY") for s in copied(c)]
    assert "sandbox" not in sources and "." not in sources, sources
    # What it copies is every package the project installs but the simulators.
    packages = {
        p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    assert packages - {"sandbox"} <= set(sources)
    # The demo target is where they are.
    assert "sandbox" in [s for c in of(chain("demo"), "COPY") for s in copied(c)]


def test_both_images_run_as_an_unprivileged_user():
    for target in ("production", "demo"):
        [*_, user] = of(chain(target), "USER")
        assert user.value[0] not in ("root", "0", "0:0"), target


def test_the_production_image_checks_its_health_without_curl():
    [check] = of(BY_NAME["production"].commands, "HEALTHCHECK")
    # HEALTHCHECK [options] CMD ["python", "-c", "..."]: the slim image has no curl.
    assert check.json, check.original
    kind, program, flag, code = check.value
    assert kind == "CMD"
    assert (program, flag) == ("python", "-c") and "/healthz" in code
    compile(code, "HEALTHCHECK", "exec")
    [serve] = of(BY_NAME["production"].commands, "CMD")
    assert list(serve.value) == ["commerce-gateway", "serve"]


def test_the_build_context_leaves_out_secrets_and_the_virtualenv_but_not_the_sources():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".env"} <= ignored
    needed = {s for c in of(chain("demo") + chain("production"), "COPY") for s in copied(c)}
    assert not needed & ignored, needed & ignored


def test_the_production_commands_run_without_the_simulators(tmp_path):
    # Given an interpreter in which the sandbox package cannot be imported, as in the image,
    # when the app, the worker and the schema are built, nothing reaches for it.
    program = """
import sys
sys.modules["sandbox"] = None
from gateway.app import create_app
from gateway.config import Settings
from gateway.worker import run_worker
from gateway.cli import main
create_app(Settings(_env_file=None))
sys.exit(main(["export-schema", "-o", "schema.graphql"]))
"""
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "type Query" in (tmp_path / "schema.graphql").read_text()
