"""localcloud/sites.py: each requirements set installed once into a folder of its own, with uv (pip when uv is
missing), holding that set and its dependencies only, as a Lambda package would."""
import logging
import subprocess
import sys

import pytest

from localcloud import sites

REQUIREMENTS = ["pyawscron==1.0.7"]
# pyawscron asks for any python-dateutil and newer releases exist: only the constraint keeps 2.9.0.post0.
CONSTRAINTS = ["python-dateutil==2.9.0.post0"]


@pytest.fixture
def sites_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(sites, "SITES", tmp_path / "sites")
    return tmp_path / "sites"


def distributions(site):
    return sorted(p.name for p in site.glob("*.dist-info"))


def isolated_import(site, module):
    """Import module in an interpreter that sees the standard library and site only, as a worker does."""
    code = f"import sys; sys.path[:0] = [{str(site)!r}]; import {module}"
    return subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=60)


def test_uv_installs_a_set_once_into_its_own_site(sites_dir, caplog):
    assert sites.uv_binary(), "uv is pinned in requirements-dev.txt: make install puts it in .venv"
    caplog.set_level(logging.INFO, logger="localcloud.sites")
    site = sites.ensure(REQUIREMENTS, constraints=CONSTRAINTS, what="test")
    assert "with uv in" in caplog.text and "uv is not installed" not in caplog.text
    installed = distributions(site)
    assert "pyawscron-1.0.7.dist-info" in installed
    assert "python_dateutil-2.9.0.post0.dist-info" in installed   # the constraint reached uv
    assert (site / ".complete").exists() and (site / ".requirements.txt").read_text() == "pyawscron==1.0.7\n"
    assert isolated_import(site, "pyawscron").returncode == 0
    # PyYAML is in the venv uv ran from, not in this set: the site must not see it.
    missing = isolated_import(site, "yaml")
    assert missing.returncode != 0 and "No module named 'yaml'" in missing.stderr
    # Installed through a temporary folder renamed into place: nothing half-made is left beside it.
    assert sorted(p.name for p in sites_dir.iterdir()) == sorted([site.name, f"{site.name}.lock"])

    caplog.clear()
    assert sites.ensure(REQUIREMENTS, constraints=CONSTRAINTS, what="test") == site
    assert "installing" not in caplog.text    # the same set again: reused, no installer run


def test_without_uv_pip_installs_the_same_set(sites_dir, monkeypatch, caplog):
    monkeypatch.setattr(sites, "SITES", sites_dir / "uv")
    with_uv = distributions(sites.ensure(REQUIREMENTS, constraints=CONSTRAINTS))

    monkeypatch.setitem(sys.modules, "uv", None)    # `import uv` now fails, as in a venv without the package
    assert sites.uv_binary() is None
    monkeypatch.setattr(sites, "SITES", sites_dir / "pip")
    caplog.set_level(logging.INFO, logger="localcloud.sites")
    site = sites.ensure(REQUIREMENTS, constraints=CONSTRAINTS)
    assert "uv is not installed" in caplog.text and "with pip in" in caplog.text
    assert distributions(site) == with_uv
    assert isolated_import(site, "pyawscron").returncode == 0


def test_a_failed_install_names_the_installer_and_leaves_no_site(sites_dir):
    with pytest.raises(sites.SiteError) as failure:
        sites.ensure(["pyawscron==0.0.0.1"])     # no such release
    assert str(failure.value).startswith("uv could not install pyawscron==0.0.0.1")
    assert not [p for p in sites_dir.iterdir() if not p.name.endswith(".lock")]
