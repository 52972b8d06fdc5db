"""One name per concept across commands, no abbreviated flags, the subcommand's usage on a misspelt flag,
error messages that name CLI flags (issue 16, item 7)."""

import argparse
import logging
import re
from pathlib import Path

import pytest

from netqa.cli import COMMANDS, build_parser, main, subcommand_parsers

SUBPARSERS = subcommand_parsers(build_parser())
README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _flags(parser):
    return {o: a for a in parser._actions for o in a.option_strings}


def test_top_level_parser_refuses_abbreviations():
    assert build_parser().allow_abbrev is False


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_refuses_abbreviations_and_documents_every_flag(command):
    p = SUBPARSERS[command]
    assert p.allow_abbrev is False
    for action in p._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help and action.help is not argparse.SUPPRESS, f"netqa {command} {action.option_strings or action.dest}: no help"


@pytest.mark.parametrize("command, argv", [
    ("kpi", ["kpi", "s.parquet", "--out", "k.json", "--bin-min", "3"]),
    ("kpi", ["kpi", "s.parquet", "--ou", "k.json"]),
    ("score", ["score", "--regions", "r.gpkg", "--out", "s.gpkg", "--sampels", "s.parquet"]),
    ("compare", ["compare", "--samples", "s", "--cells", "c", "--dem", "d", "--out", "o", "--min-dist", "0.1"]),
])
def test_misspelt_or_abbreviated_flag_exits_2_naming_the_subcommand(command, argv, capsys):
    assert main(argv) == 2  # one line on stderr, no usage block, no SystemExit out of main()
    err = capsys.readouterr().err
    assert err.startswith(f"usage: netqa {command} ")
    assert f"netqa {command}: error: unrecognized arguments" in err or f"netqa {command}: error: the following" in err


def test_misspelt_flag_suggests_the_closest(capsys):
    assert main(["score", "--regions", "r.gpkg", "--out", "s.gpkg", "--sampels", "s.parquet"]) == 2
    assert "did you mean --samples?" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["compare", "calibrate", "kpi"])
def test_min_bin_samples_is_the_one_name(command):
    assert "--min-bin-samples" in _flags(SUBPARSERS[command])


@pytest.mark.parametrize("command, old", [("kpi", "--bin-min-samples"), ("compare", "--min-samples-per-bin"),
                                          ("calibrate", "--min-samples-per-bin")])
def test_old_bin_flag_still_works_with_a_warning(command, old, caplog):
    required = {"kpi": ["s", "--out", "k"], "compare": ["--samples", "s", "--cells", "c", "--dem", "d", "--out", "o"],
                "calibrate": ["--samples", "s", "--cells", "c", "--dem", "d", "--out", "o"]}[command]
    with caplog.at_level(logging.WARNING, logger="netqa"):
        args = build_parser().parse_args([command, *required, old, "4"])
    assert args.min_bin_samples == 4
    assert f"{old} is deprecated; use --min-bin-samples" in caplog.text


@pytest.mark.parametrize("given, canonical", [("ground", "ground"), ("relative", "relative"), ("site", "ground"),
                                              ("terrain", "relative")])
def test_h_eff_takes_the_model_file_names(given, canonical, caplog):
    with caplog.at_level(logging.WARNING, logger="netqa"):
        args = build_parser().parse_args(["calibrate", "--samples", "s", "--cells", "c", "--dem", "d", "--out", "o",
                                          "--h-eff", given])
    assert args.h_eff == canonical
    assert ("deprecated" in caplog.text) == (given != canonical)


def test_h_eff_default_is_relative():
    args = build_parser().parse_args(["calibrate", "--samples", "s", "--cells", "c", "--dem", "d", "--out", "o"])
    assert args.h_eff == "relative"


def test_calibrate_options_accept_both_spellings():
    from netqa.calibrate.run import CalibrateOptions

    assert CalibrateOptions(h_eff="site").h_eff == "ground"
    assert CalibrateOptions(h_eff="relative").h_eff == "relative"
    with pytest.raises(ValueError, match="'ground' or 'relative'"):
        CalibrateOptions(h_eff="mast")


@pytest.mark.parametrize("command", ["kpi", "compare", "calibrate", "score", "map"])
def test_samples_given_the_same_way_everywhere(command):
    assert "--samples" in _flags(SUBPARSERS[command])


@pytest.mark.parametrize("command", ["score", "map"])
def test_coverage_given_the_same_way_everywhere(command):
    assert "--coverage" in _flags(SUBPARSERS[command])


def test_kpi_and_map_positional_shorthand_still_works():
    a = build_parser().parse_args(["kpi", "s.parquet", "--out", "k.json"])
    b = build_parser().parse_args(["kpi", "--samples", "s.parquet", "--out", "k.json"])
    assert (a.samples_pos, a.samples, b.samples_pos, b.samples) == ("s.parquet", None, None, "s.parquet")
    m = build_parser().parse_args(["map", "--coverage", "c.tif", "--out", "m.png"])
    assert m.coverage == "c.tif"


def test_kpi_without_samples_names_the_flag(capsys):
    assert main(["kpi", "--out", "k.json"]) == 2
    assert "netqa kpi: error: --samples is required" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["kpi", "s.parquet", "--out", "k.json", "--bin-m", "-5"], "argument --bin-m: '-5' is not a finite number > 0"),
    (["kpi", "s.parquet", "--out", "k.json", "--min-bin-samples", "0"], "argument --min-bin-samples: '0' is not a whole number >= 1"),
    (["compare", "--samples", "s", "--cells", "c", "--dem", "d", "--out", "o", "--min-dist-km", "3", "--max-dist-km", "1"],
     "--max-dist-km 1 must be above --min-dist-km 3"),
    (["compare", "--samples", "s", "--cells", "c", "--dem", "d", "--out", "o", "--min-bin-samples", "0"],
     "argument --min-bin-samples: '0' is not a whole number >= 1"),
    (["calibrate", "--samples", "s", "--cells", "c", "--dem", "d", "--out", "o", "--rsrp-floor-dbm", "nan"],
     "argument --rsrp-floor-dbm: 'nan' is not a finite number"),
])
def test_errors_name_cli_flags_not_python_names(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert not re.search(r"\b(min_dist_km|max_dist_km|rsrp_floor_dbm|min_samples_per_bin|bin_m)\b", err)


def test_readme_command_table_lists_every_command():
    table = README.split("## The command line", 1)[1].split("\n## ", 1)[0]
    for command in COMMANDS:
        assert f"| `netqa {command}" in table, command


def test_readme_explains_chapter_3_where_first_used():
    first = README.index("chapter-3") if "chapter-3" in README else README.index("chapter 3")
    around = README[first - 400:first + 600]
    assert "DESIGN.md" in around and "KPI" in around
