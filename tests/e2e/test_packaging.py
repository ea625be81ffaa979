"""Packaging a new user meets: license, changelog, one version, ``python -m rxfeeds``, extras (issue 18 item 9)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import rxfeeds
from tests.helpers import ROOT

pytestmark = pytest.mark.timeout(300)

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def test_license_matches_pyproject_and_changelog_exists() -> None:
    assert PYPROJECT["project"]["license"] == {"text": "MIT"}
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## Unreleased" in changelog and f"## {rxfeeds.__version__}" in changelog


def test_one_version_source() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "rxfeeds/__init__.py"
    out = subprocess.run(
        [sys.executable, "-m", "rxfeeds", "--version"], env=ENV, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and out.stdout.strip() == f"rxfeeds, version {rxfeeds.__version__}"


def test_project_urls() -> None:
    urls = PYPROJECT["project"]["urls"]
    assert {"Homepage", "Documentation"} <= set(urls)
    assert all(u.startswith("https://") for u in urls.values())


def test_python_dash_m_rxfeeds_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "rxfeeds", "--help"], env=ENV, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and "Usage: rxfeeds" in out.stdout and "watch" in out.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "rxfeeds", "sim", "nowhere"], env=ENV, capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "unknown venue 'nowhere'" in bad.stderr


def test_cryptography_is_an_extra_for_midchains_only() -> None:
    deps = PYPROJECT["project"]["dependencies"]
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert not any(d.startswith("cryptography") for d in deps)
    assert any(d.startswith("cryptography") for d in extras["midchains"])
    assert any(d.startswith("cryptography") for d in extras["dev"])  # the tests need it


def test_missing_cryptography_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from rxfeeds.venues.midchains.client import Midchains
    from rxfeeds.venues.midchains.codec import encrypt_password

    # as if not installed: an import of any cryptography module fails
    for name in [m for m in sys.modules if m == "cryptography" or m.startswith("cryptography.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(ModuleNotFoundError, match=r"rxfeeds\[midchains\]"):
        encrypt_password("AAAA", "pw")
    client = Midchains(url="ws://127.0.0.1:1")
    try:
        with pytest.raises(ModuleNotFoundError, match=r"rxfeeds\[midchains\]"):
            client.login("me", "pw")  # at once, before anything is sent
    finally:
        client.close()


def test_the_core_imports_no_cryptography() -> None:
    code = (
        "import sys, rxfeeds; from rxfeeds import ops; rxfeeds.Kraken; rxfeeds.Midchains;"
        " import rxfeeds.venues.midchains.codec; print('cryptography' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_book_benchmark_without_captures_says_why_and_uses_the_simulator(tmp_path: Path) -> None:
    env = dict(ENV, RXFEEDS_CAPTURES=str(tmp_path / "absent"))
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "book.py"), "--frames", "3000", "--repeat", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, out.stderr
    assert "capture not found" in out.stderr and "Kraken simulator instead" in out.stderr
    assert '"capture": "kraken simulator' in out.stdout
    assert '"checksum_failed": 0' in out.stdout and '"checksum_ok": 0' not in out.stdout


def test_readme_and_docs_show_the_charts_the_notebooks_draw() -> None:
    import re

    script = (ROOT / "notebooks" / "export_images.py").read_text()
    for page, prefix in (
        (ROOT / "README.md", "docs/"),
        (ROOT / "docs" / "index.md", ""),
        (ROOT / "docs" / "notebooks.md", ""),
    ):
        images = re.findall(r"!\[[^\]]+\]\(([^)]+\.png)\)", page.read_text())
        assert {f"{prefix}images/depth-chart.png", f"{prefix}images/candles.png"} <= set(images), page.name
        for image in images:
            data = (page.parent / image).read_bytes()
            assert data.startswith(b"\x89PNG") and len(data) > 5000, image
            assert Path(image).name in script  # made by the export script, not by hand


def test_the_one_test_command_runs_the_doctests_of_the_package() -> None:
    # CI runs the README's `python3 -m pytest -q`: the docstring examples must be part of it
    options = PYPROJECT["tool"]["pytest"]["ini_options"]
    assert "rxfeeds" in options["testpaths"]
    assert "--doctest-modules" in options["addopts"].split()
    assert "python3 -m pytest -q" in (ROOT / ".ci" / "run").read_text()
