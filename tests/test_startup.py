"""Job start-up: a job's process pays for every library it imports (torch alone ~1.5 s)."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "workflow" / "scripts"
UNUSED_BY_TORCH_JOBS = ("timm", "ot", "seaborn", "matplotlib", "sklearn", "pandas",
                        "torchvision", "torch._dynamo")


def modules_after(code):
    """Names in sys.modules after running `code` in a fresh interpreter in workflow/scripts."""
    code += "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=SCRIPTS, capture_output=True,
                         text=True, check=True).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def script_imports(name):
    """The import statements of a rule script, as source."""
    tree = ast.parse((SCRIPTS / name).read_text())
    return "\n".join(ast.unparse(node) for node in tree.body
                     if isinstance(node, ast.Import | ast.ImportFrom))


@pytest.mark.parametrize("script", ["imp_round.py", "retrain.py", "init.py", "distances.py"])
def test_torch_jobs_import_no_library_they_do_not_use(script):
    loaded = modules_after(script_imports(script))
    assert "torch" in loaded
    assert not [m for m in UNUSED_BY_TORCH_JOBS if m in loaded]


def test_training_does_not_import_torch_dynamo():
    """Building a torch.optim optimizer imports torch._dynamo (over 1 s); train() must not."""
    loaded = modules_after(
        "import torch\nfrom dilt import models, train\nfrom dilt.batches import TensorFeed\n"
        "m = models.init_model({'arch': 'conv4', 'width': 4, 'fc_width': 8, 'ignore': []}, "
        "(1, 8, 8), 3, 0)\ndata = TensorFeed(torch.randn(20, 1, 8, 8), torch.arange(20) % 3)\n"
        "train.train(m, None, data, {'epochs': 1, 'batch_size': 8, 'lr': 0.1, "
        "'momentum': 0.9, 'weight_decay': 0.0}, 0, log=lambda _: None)")
    assert "torch._dynamo" not in loaded


def test_gw_job_uses_pot_without_importing_torch():
    loaded = modules_after(
        script_imports("gw.py") + "\nimport numpy as np\nfrom dilt.gw import distance_matrix\n"
        "rng = np.random.default_rng(0)\n"
        "mats = {k: distance_matrix(rng.normal(size=(12, 5))) for k in 'abc'}\n"
        "gw_matrix(mats, solver='pot')")
    assert "ot" in loaded and "torch" not in loaded


def test_gw_job_on_the_cpu_runs_without_torch(tmp_path):
    """The rule script end to end with gw.device cpu and the default solver."""
    loaded = modules_after(
        "import numpy as np, runpy\nfrom dilt import io, rule_job\n"
        "from dilt.gw import distance_matrix\nrng = np.random.default_rng(0)\n"
        f"paths = {{p: '{tmp_path}/' + p + '.npz' for p in ('p0', 'p1')}}\n"
        "for p in paths: io.save_npz(paths[p], {'a': distance_matrix(rng.normal(size=(9, 4)))})\n"
        "main = runpy.run_path('gw.py')['main']\n"
        f"main(rule_job.stand_in(input=paths, output={{'t': '{tmp_path}/gw.tsv'}}, params="
        "{'parts': ['p0', 'p1'], 'solver': 'local+ecc', 'device': 'cpu'}), print)")
    assert (tmp_path / "gw.tsv").exists() and "torch" not in loaded
