"""The command line's own answers: its version, and a key made, listed and revoked."""

from __future__ import annotations

import pytest

from gateway.cli import main


def test_version_prints_the_installed_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("commerce-gateway ") and out.split()[1][0].isdigit()


def test_a_key_is_shown_once_listed_without_its_secret_and_revoked(capsys):
    assert main(["keys", "create", "--role", "ops", "--name", "ops-console"]) == 0
    shown = capsys.readouterr().out.strip().splitlines()[-1]
    assert shown.startswith("cgk_")
    assert main(["keys", "list"]) == 0
    listed = capsys.readouterr().out
    # cgk_<id>_<secret>: the secret itself may hold "_" (URL-safe base64).
    secret = shown.split("_", 2)[2]
    assert "ops-console" in listed and "OPS" in listed and secret not in listed
    assert main(["keys", "revoke", "ops-console"]) == 0
    assert main(["keys", "create", "--role", "store_associate", "--name", "kiosk"]) == 2
