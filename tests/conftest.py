"""Put the workflow's library package (workflow/scripts/dilt) on the import path."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "scripts"))


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One complete run of the tiny configuration: (workdir, its dilt.paths.Paths)."""
    from workflow_run import snakemake

    from dilt.paths import Paths

    workdir = tmp_path_factory.mktemp("tiny")
    snakemake(workdir)
    return workdir, Paths("tiny", workdir)
