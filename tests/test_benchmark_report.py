"""``benchmarks/report.py`` end to end in its smallest configuration (circles, fastmlp
and the NumPy engine, one repeat of one epoch): the table is printed and the files
written, and without matplotlib (the ``bench`` extra) the plot is skipped with a message
instead of a traceback. The GEMM ceilings are stubbed (measuring them takes seconds;
``.ci/run`` runs the real report)."""

import sys

import pytest

from benchmarks import report

ARGS = ["--quick", "--workloads", "circles", "--implementations", "fastmlp", "numpy", "--repeats", "1",
        "--epochs", "1"]


@pytest.fixture
def run_report(monkeypatch, tmp_path, capsys):
    """Run the report into ``tmp_path``; return its stdout."""
    monkeypatch.setattr(report, "gemm_peak", lambda dtype, **kwargs: 100.0)
    monkeypatch.setattr(report, "shaped_gemm_rate", lambda shapes, dtype, *args: 50.0)

    def run():
        report.main([*ARGS, "--out", str(tmp_path)])
        return capsys.readouterr().out

    return run


def assert_table_printed(out):
    assert "| workload | implementation | s/epoch median" in out
    assert "| circles (1000 rows, float64) | fastmlp |" in out
    assert "| circles (1000 rows, float64) | numpy |" in out


def test_report_without_matplotlib_prints_the_table_and_skips_the_plot(run_report, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # ``import matplotlib`` raises ImportError
    out = run_report()
    assert_table_printed(out)
    assert "Plot skipped: matplotlib is not installed" in out
    assert (tmp_path / "report.md").exists() and (tmp_path / "results.json").exists()
    assert not (tmp_path / "speedup.png").exists()


def test_report_with_matplotlib_draws_the_plot(run_report, tmp_path):
    pytest.importorskip("matplotlib", reason="the bench extra is not installed")
    out = run_report()
    assert_table_printed(out)
    assert "Plot skipped" not in out
    assert (tmp_path / "speedup.png").read_bytes().startswith(b"\x89PNG")
