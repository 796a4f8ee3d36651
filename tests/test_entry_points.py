"""The two entry points fail in one clear line: a bad ``simnet-editor --size``, and a ``simnet``
command whose module cannot be imported (listed and explained, not silently dropped)."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from engine import cli


@pytest.mark.parametrize("text", ["big", "800", "800x", "x600", "0x600", "-5x600", "800x600x2", "99999x600"])
def test_editor_refuses_a_bad_size_in_one_line(text: str, capsys) -> None:
    from app.main import parse_args

    with pytest.raises(SystemExit) as exit_info:
        parse_args([f"--size={text}"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "is not a window size: use WIDTHxHEIGHT" in error and "Traceback" not in error


def test_editor_reads_a_good_size() -> None:
    from app.main import parse_args

    assert parse_args(["--size", "1024X700"]).size == (1024, 700)
    assert parse_args([]).size is None


def test_every_command_module_imports() -> None:
    for name in cli.COMMAND_MODULES:
        importlib.import_module(f"engine.commands.{name}")


def test_a_command_that_fails_to_import_is_listed_and_explains(monkeypatch, capsys) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("edit", "segment_train"))
    monkeypatch.setitem(sys.modules, "engine.commands.segment_train", None)  # import raises ImportError
    assert cli.main(["segment-train", "--data", "x", "--out", "y"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("simnet segment-train: error: this command cannot run")
    assert "engine.commands.segment_train failed to load" in error and "\n" == error[-1] and error.count("\n") == 1
    with pytest.raises(SystemExit) as exit_info:  # the others still work
        cli.main(["edit", "--help"])
    assert exit_info.value.code == 0
    help_text = cli.build_parser().format_help()
    assert "segment-train" in help_text and "unavailable" in help_text


def test_only_the_command_run_is_imported_and_help_lists_every_command(monkeypatch) -> None:
    for name in cli.COMMAND_MODULES:
        monkeypatch.delitem(sys.modules, f"engine.commands.{name}", raising=False)
    parser = cli.build_parser("restyle")
    loaded = [name for name in cli.COMMAND_MODULES if f"engine.commands.{name}" in sys.modules]
    assert loaded == ["restyle"]
    assert parser.parse_args(["restyle", "a.png", "--region", "r.png", "--exemplar", "a.png",
                              "--exemplar-region", "e.png", "-o", "o.png"]).strength == 1.0
    help_text = cli.build_parser().format_help()
    for name in cli.COMMAND_MODULES:
        assert name.replace("_", "-") in help_text


def test_help_imports_no_torch() -> None:
    """`simnet --help` lists every command in well under a second: no command module loads torch
    before it runs."""
    import subprocess

    script = ("import sys; from engine import cli; cli.build_parser().format_help(); "
              "assert 'torch' not in sys.modules, 'torch was imported'")
    process = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[1],
                             capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stderr[-500:]


def test_both_entry_points_tell_their_version(capsys) -> None:
    """`simnet --version` and `simnet-editor --version` print the installed package's version (pyproject.toml)
    and exit 0; they were refused as unrecognised arguments."""
    import re

    from app.main import parse_args

    project = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    expected = re.search(r'^version = "([^"]+)"', project, re.MULTILINE).group(1)
    for run, program in ((lambda: cli.main(["--version"]), "simnet"), (lambda: parse_args(["--version"]), "simnet-editor")):
        with pytest.raises(SystemExit) as exit_info:
            run()
        assert exit_info.value.code in (0, None)
        assert capsys.readouterr().out.strip() == f"{program} {expected}"
