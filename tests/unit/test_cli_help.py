"""Every command's ``--help`` explains each option and shows its default, and the commands
that need the simulators say so where they are left out (the production image)."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator

import pytest

from gateway.cli import build_parser, main


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*path, name))


def options(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
            continue
        yield action


def shown_default(default: object) -> bool:
    """Worth showing: None means the help says what happens, a flag is off, a list empty."""
    return default is not None and default is not False and default != []


ALL = list(commands(build_parser()))


def test_the_walk_reaches_every_command():
    names = {" ".join(path) for path, _ in ALL}
    assert {"demo", "simulators", "serve", "worker", "keys create", "export-schema"} <= names


@pytest.mark.parametrize(("path", "parser"), ALL, ids=[" ".join(p) or "top" for p, _ in ALL])
def test_every_option_has_help_and_shows_its_default(path, parser):
    text = " ".join(parser.format_help().split())  # unwrapped, as it reads
    for action in options(parser):
        name = "/".join(action.option_strings) or action.dest
        assert action.help and action.help.strip(), f"{' '.join(path)} {name} has no help"
        if action.default is argparse.SUPPRESS or not shown_default(action.default):
            continue
        assert re.search(rf"\(default: {re.escape(str(action.default))}\)", text), (
            f"{' '.join(path)} {name}: --help does not show its default {action.default!r}"
        )


def test_the_help_of_an_option_reads_with_its_default(capsys):
    with pytest.raises(SystemExit):
        main(["worker", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--stop-grace-seconds SECONDS on SIGTERM, how long" in text
    assert "taken again when its lease runs out (default: 8.0)" in text


@pytest.mark.parametrize("command", [["simulators"], ["demo", "--break", "square=hang"]])
def test_without_the_simulators_the_demo_commands_say_what_to_do(command, monkeypatch, capsys):
    # Given an installation without the sandbox package, as the production image is
    for name in [m for m in sys.modules if m == "sandbox" or m.startswith("sandbox.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sandbox", None)  # makes ``import sandbox`` fail
    # When a command that needs them runs, then it exits 2 saying where they are
    assert main(command) == 2
    said = " ".join(capsys.readouterr().err.split())
    assert f"commerce-gateway {command[0]} needs the simulators" in said
    assert "run it from a source checkout" in said
