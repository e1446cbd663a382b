"""``benchmarks/parallel_epoch.py`` end to end in its smallest configuration (Numba's
always-available workqueue layer, circles, one round of one epoch): the child process
runs, the table has its row, and the chunked parallel kernels trained bit for bit the
serial kernels' weights. A broken benchmark, or chunking that changed the rounding, fails
here."""

import subprocess
import sys
from pathlib import Path

from benchmarks import parallel_epoch

SCRIPT = Path(parallel_epoch.__file__)


def test_parallel_epoch_command_trains_the_same_weights():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--layers", "workqueue", "--workloads", "circles", "--rows", "300",
         "--rounds", "1", "--epochs", "1"],
        capture_output=True, text=True, timeout=300, cwd=SCRIPT.parent.parent,
    )
    assert done.returncode == 0, done.stderr
    assert "| " + " | ".join(parallel_epoch.COLUMNS) + " |" in done.stdout
    row_start = "| circles (300 rows) | workqueue (workqueue)"
    rows = [line for line in done.stdout.splitlines() if line.startswith(row_start)]
    assert len(rows) == 1, done.stdout
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert cells[-1] == "yes", rows[0]
    assert float(cells[3]) > 0 and float(cells[4]) > 0
