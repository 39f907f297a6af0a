"""The template passes cfn-lint; the tree passes flake8."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_templates_pass_cfn_lint():
    result = subprocess.run([str(BIN / "cfn-lint"), "template.yaml", "localcloud/tests/template.yaml"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_tree_is_flake8_clean():
    result = subprocess.run([str(BIN / "flake8"), "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
