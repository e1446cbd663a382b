"""``benchmarks/scaling.py`` end to end, as a command in a fresh process, in its smallest
configuration (circles, one repeat of one epoch, phases replayed for milliseconds):
the table has every column, a row per thread count, and finite numbers; the files are
written. A broken scaling benchmark fails here (``.ci/run`` runs only ``report.py``)."""

import json
import math
import re
import subprocess
import sys
from pathlib import Path

from benchmarks import scaling

SCRIPT = Path(scaling.__file__)


def test_scaling_command_prints_a_complete_table(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--workloads", "circles", "--repeats", "1", "--epochs", "1", "--min-time",
         "0.002", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=SCRIPT.parent.parent,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = "| " + " | ".join(scaling.COLUMNS) + " |"
    assert header in lines
    rows = [line for line in lines if line.startswith("| circles (1000 rows, float64) |")]
    counts = scaling.thread_counts()
    assert [int(row.split("|")[2]) for row in rows] == counts
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert len(cells) == len(scaling.COLUMNS), row
        numbers = [float(x) for cell in cells[1:] for x in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", cell)]
        assert numbers and all(math.isfinite(x) and x >= 0 for x in numbers), row
    assert "assumes the GEMMs scale perfectly" in done.stdout
    assert (tmp_path / "scaling.md").read_text().count("| circles") == len(counts)
    results = json.loads((tmp_path / "scaling.json").read_text())
    projection = results["workloads"][0]["projection"]
    assert set(projection["today"]) == {str(n) for n in scaling.PROJECTED_CORES}
    assert all(1.0 <= s <= n for n, s in zip(scaling.PROJECTED_CORES, projection["today"].values()))


def test_thread_counts_and_amdahl():
    assert scaling.thread_counts(1) == [1]
    assert scaling.thread_counts(2) == [1, 2]
    assert scaling.thread_counts(6) == [1, 2, 4, 6]
    assert scaling.thread_counts(16) == [1, 2, 4, 8, 16]
    assert scaling.amdahl(0.0, 8) == 8.0
    assert scaling.amdahl(1.0, 8) == 1.0
    assert math.isclose(scaling.amdahl(0.25, 4), 1 / (0.25 + 0.75 / 4))
    assert scaling.karp_flatt(2.0, 2) == 0.0
    assert scaling.karp_flatt(1.0, 2) == 1.0
    assert math.isclose(scaling.karp_flatt(scaling.amdahl(0.3, 8), 8), 0.3)
