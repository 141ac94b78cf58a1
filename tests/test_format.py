"""Snakefile and rules/*.smk are formatted by snakefmt (settings in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEFMT = Path(sys.executable).parent / "snakefmt"


def test_snakefiles_are_snakefmt_formatted():
    proc = subprocess.run([str(SNAKEFMT), "--check", "Snakefile", "rules"], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
