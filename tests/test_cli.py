"""`mashang --help` and every command's: each option says what it is for (`serve --help` listed --host, --port and
--log-level with nothing beside them, `demo --help` --shops and --grid-workers)."""

from __future__ import annotations

import re

import pytest

from server.cli import main


def help_of(capsys: pytest.CaptureFixture[str], *command: str) -> str:
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def undescribed(text: str) -> list[str]:
    """The options a --help text lists without a description: an option's line (two spaces, then a dash) with
    nothing after its name, and no more deeply indented line under it."""
    lines = text.splitlines()
    missing = []
    for n, line in enumerate(lines):
        if not line.startswith("  -"):
            continue
        name, *described = re.split(r"\s{2,}", line.strip(), maxsplit=1)
        below = lines[n + 1] if n + 1 < len(lines) else ""
        if not described and not (below.startswith("   ") and below.strip()):
            missing.append(name)
    return missing


def test_every_option_of_every_command_says_what_it_is_for(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps to the terminal's width
    top = help_of(capsys)
    found = re.search(r"\{([a-z,-]+)\}", top)
    assert found is not None, top
    commands = found.group(1).split(",")
    assert {"setup", "serve", "worker", "rebuild", "admin-token", "backup", "restore", "demo"} <= set(commands)
    assert undescribed(top) == []
    for command in commands:
        text = help_of(capsys, command)
        assert text.count("\n  -") >= 2, text  # --help and at least one option of its own
        assert undescribed(text) == [], f"mashang {command} --help:\n{text}"
    serve = help_of(capsys, "serve")
    assert "the port to listen on (default 8000)" in serve
    assert "how much is logged: debug, info, warning, error or critical (default info)" in serve


def test_the_check_finds_an_option_listed_without_a_description() -> None:
    lines = ["options:", "  -h, --help   show this", "  --host HOST", "  --port PORT  the port", "  --name NAME"]
    text = "\n".join([*lines, "                its name", ""])
    assert undescribed(text) == ["--host HOST"]
