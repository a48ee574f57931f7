"""The README's commands and its API tour must work as written."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_opens_with_the_two_commands():
    first = _blocks("bash")[0].strip().splitlines()
    assert first == [
        "pip install -e . && scalefit demo --out scalefit-demo",
        "pip install -e '.[test]' && python -m pytest",
    ]


def test_api_tour_runs(monkeypatch, tmp_path):
    import scalefit

    code = _blocks("python")[0].replace('"my_runs.csv"', repr(str(scalefit.datasets.synthetic_path("isoflop"))))
    code = code.replace("fit.bootstrap(1000", "fit.bootstrap(50")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    # the tour plans 1e24 FLOPs from runs up to 3e21: an extrapolation, which scalefit says out loud
    with pytest.warns(scalefit.ExtrapolationWarning, match="extrapolation"):
        exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["days"].days > 0
    assert len(namespace["plan"]) == 3


def test_cli_tour_commands_parse():
    """Every command in the CLI tour is accepted by the parser (options exist, values parse)."""
    from scalefit.cli import build_parser

    parser = build_parser()
    for line in _blocks("bash")[1].strip().splitlines():
        argv = shlex.split(line)
        assert argv[0] == "scalefit"
        try:
            parser.parse_args(argv[1:])
        except SystemExit as exc:  # argparse error
            pytest.fail(f"README command does not parse: {line} ({exc})")


def test_layout_section_matches_the_tree():
    """README's layout section names every module of the package, and every folder it names exists."""
    import re

    root = Path(__file__).resolve().parents[1]
    text = (root / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Layout"):]
    named = set(re.findall(r"`([\w./]+)`", section))
    package = root / "scalefit"
    modules = [p for p in package.rglob("*.py") if p.name not in ("__init__.py", "__main__.py")
               and "data" not in p.relative_to(package).parts[:-1]]
    missing = sorted(str(p.relative_to(package)) for p in modules if p.name not in named)
    assert not missing, f"README layout section does not name {missing}"
    folders = [n.rstrip("/") for n in named if n.endswith("/")]
    for folder in folders:
        assert (package / folder).is_dir() or (root / folder).is_dir(), f"README names {folder}/, which does not exist"
    subpackages = sorted(p.parent.relative_to(package).as_posix() for p in package.glob("*/__init__.py"))
    assert {f"{s}" for s in subpackages} <= set(folders), f"README layout section misses {subpackages}"
