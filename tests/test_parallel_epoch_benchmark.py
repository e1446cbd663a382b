"""``benchmarks/parallel_epoch.py`` end to end in its smallest configuration (Numba's
always-available workqueue layer, circles, one round of one epoch at each thread count):
the child process runs, the table has a row per thread count, and the chunked parallel
kernels trained bit for bit the serial kernels' weights. A broken benchmark, or chunking
that changed the rounding, fails here."""

import subprocess
import sys
from pathlib import Path

from benchmarks import parallel_epoch, scaling

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
    assert len(rows) == len(scaling.thread_counts()), done.stdout
    for row, threads in zip(rows, scaling.thread_counts()):
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert len(cells) == len(parallel_epoch.COLUMNS), row
        assert int(cells[2]) == threads
        assert float(cells[3]) > 0 and float(cells[4]) > 0
        assert cells[-1] == "yes", row
