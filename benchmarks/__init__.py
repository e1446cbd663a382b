"""fastmlp's benchmarks: workloads (``workloads``), pytest-benchmark groups
(``test_bench_*``) and the side-by-side report (``report``). Not part of the package."""
