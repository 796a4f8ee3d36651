"""The first edit in a process does not import torch's compiler stack (it cost 2.4-3.9 s on 2 cores)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLES = REPO_ROOT / "resources" / "samples"

FRESH_OPTIMISER = """
import sys, torch
from engine.compiler_import import skip_compiler_import
skipped = {skip}
if skipped:
    assert skip_compiler_import() and skip_compiler_import()  # twice is harmless
point = torch.nn.Parameter(torch.tensor([3.0, -2.0]))
optimizer = torch.optim.LBFGS([point], max_iter=20, line_search_fn="strong_wolfe")
def closure():
    optimizer.zero_grad()
    loss = ((point - torch.tensor([1.0, 0.5])) ** 2).sum()
    loss.backward()
    return loss
optimizer.step(closure)
state = optimizer.state_dict()
optimizer.load_state_dict(state)
print("torch._dynamo" in sys.modules, [round(v, 4) for v in point.tolist()])
"""


def run_python(code: str) -> str:
    environment = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=REPO_ROOT, env=environment, timeout=300).stdout.strip().splitlines()[-1]


def test_optimisers_run_the_same_without_importing_the_compiler() -> None:
    assert run_python(FRESH_OPTIMISER.format(skip=True)) == "False [1.0, 0.5]"
    assert run_python(FRESH_OPTIMISER.format(skip=False)) == "True [1.0, 0.5]"  # what torch does by itself


def test_simnet_edit_does_not_import_the_compiler(tmp_path: Path) -> None:
    out = tmp_path / "edited.png"
    code = f"""
import sys
from engine.cli import main
code = main(["edit", {str(SAMPLES / "starry_night.jpg")!r}, "--source-mask", {str(SAMPLES / "starry_night_source.png")!r},
             "--target-mask", {str(SAMPLES / "starry_night_target.png")!r}, "-o", {str(out)!r}, "--device", "cpu"])
print(code, "torch._dynamo" in sys.modules)
"""
    assert run_python(code) == "0 False"
    assert out.is_file()
