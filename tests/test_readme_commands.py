"""Every ``netqa`` command the README shows in a code block parses with today's command line.

The worked example is run verbatim by ``test_readme_example.py``; the other shown commands
(ingest recipes, the audit, ``--surface``) are parsed here with the real parser, so a renamed
or removed flag, a bad choice or a missing required flag in the README fails the suite.  The
commands that read only ``testdata/`` run as shown (in a scratch folder) when marked ``slow``.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from netqa.cli import build_parser

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def readme_commands() -> list[str]:
    """The ``netqa ...`` lines of the README's fenced code blocks (continuations joined, comments cut)."""
    out = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", README, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#.*$", "", line.strip())
            if line.startswith("netqa "):
                out.append(re.sub(r"\s+", " ", line))
    return out


def test_the_readme_shows_commands():
    cmds = readme_commands()
    assert len(cmds) >= 10
    assert any(c.startswith("netqa audit") for c in cmds) and any("--surface" in c for c in cmds)


@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_parses(command):
    argv = shlex.split(command)[1:]
    if argv == ["--version"]:
        return
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage error
        pytest.fail(f"README command does not parse (exit {exc.code}): {command}")
    assert args.command == argv[0]


@pytest.mark.slow
@pytest.mark.parametrize("command", [c for c in readme_commands() if c.startswith("netqa predict") and
                                     "testdata/district" in c])  # fmt: skip
def test_readme_testdata_command_runs_as_shown(command, tmp_path):
    (tmp_path / "testdata").symlink_to(REPO / "testdata")
    argv = [sys.executable, "-m", "netqa", *shlex.split(command)[1:]]
    run = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         env={**__import__("os").environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
