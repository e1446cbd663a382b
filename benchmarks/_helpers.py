"""pytest-benchmark helpers shared by the ``test_bench_*`` modules."""

import numpy as np
import pytest

#: Timed calls of a kernel benchmarked with fresh inputs before each call.
RESET_ROUNDS = 200


def cases(group, **axes):
    """``pytest.param`` for every combination of ``axes`` (name -> {id: value}), each
    marked with the benchmark group ``"<group> <ids...>"``. Parametrize the rivals
    (engine, implementation, variant) separately, so that they share each group."""
    combos = [((), ())]
    for values in axes.values():
        combos = [(ids + (vid,), vals + (value,)) for ids, vals in combos for vid, value in values.items()]
    return [
        pytest.param(*vals, id="-".join(ids), marks=pytest.mark.benchmark(group=f"{group} {' '.join(ids)}"))
        for ids, vals in combos
    ]


def run(benchmark, fn, *args, fresh=()):
    """Call ``fn(*args)`` once (the warm-up: Numba compiles or loads its cache), then
    benchmark it. ``fresh``: (array, initial values) pairs restored before every timed
    call, outside the timing, for kernels that overwrite their input. With
    ``--benchmark-disable`` (the smoke run) ``fn`` runs once, without the warm-up."""

    def restore():
        for array, initial in fresh:
            np.copyto(array, initial)

    if not benchmark.disabled:
        restore()
        fn(*args)
    if not fresh:
        return benchmark(fn, *args)
    return benchmark.pedantic(fn, args=args, setup=restore, rounds=RESET_ROUNDS)
