"""The CLI contract of DESIGN.md: every command has --help with an example, errors exit 2."""

import subprocess
import sys

import pytest

from netqa.cli import COMMANDS, build_parser, main


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_example(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "Example:" in out
    assert f"netqa {command}" in out.split("Example:")[1]
    assert "--verbose" in out and "--quiet" in out


def test_top_level_help_lists_all_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


def test_version():
    proc = subprocess.run([sys.executable, "-m", "netqa", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stdout.startswith("netqa ")


def test_verbose_accepted_before_and_after_command():
    parser = build_parser()
    assert parser.parse_args(["-v", "demo"]).verbose is True
    assert parser.parse_args(["demo", "-v"]).verbose is True
    assert parser.parse_args(["demo"]).verbose is False


def test_no_command_exits_2(capsys):
    assert main([]) == 2
