"""The compiled sums keep their promised orders: ``pairwise_sum`` is ``np.sum`` of a
contiguous 1-D array bit for bit (NumPy's pairwise order, blocks of 128 split in halves
rounded to multiples of 8), and ``sum_of_squares`` does not depend on where it starts
summing a lane."""

import zlib

import numpy as np
import pytest

from fastmlp.engines.numba_engine._sums import pairwise_sum, sum_of_squares

#: Lengths around every boundary of NumPy's algorithm: under 8 (one running sum), 8 and
#: multiples (eight running sums), 128/129 (one block or a split), deep splits.
LENGTHS = [1, 2, 7, 8, 9, 15, 16, 127, 128, 129, 136, 255, 256, 257, 1000, 4097, 100_003]


@pytest.fixture
def rng(request):
    return np.random.default_rng(zlib.crc32(request.node.name.encode()))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("start", [0, 3])
@pytest.mark.parametrize("n", LENGTHS)
def test_pairwise_sum_is_numpys_sum_bit_for_bit(n, start, dtype, rng):
    # Magnitudes over ten decades and both signs: any other order rounds differently.
    x = (rng.standard_normal(n + start + 2) * 10.0 ** rng.uniform(-5, 5, n + start + 2)).astype(dtype)
    assert pairwise_sum(x, np.int64(start), np.int64(n)) == np.sum(x[start:start + n])


@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 1000])
def test_sum_of_squares_is_a_float64_sum_of_squares(n, rng):
    w = rng.standard_normal(n).astype(np.float32)
    # 64 lanes then a tail, in float64: a sum of n <= 1000 positive terms is within
    # n * 2**-53 (1.1e-13) of any other order's; 1e-12 leaves a 10x margin.
    assert sum_of_squares(w) == pytest.approx(float(np.sum(w.astype(np.float64) ** 2)), rel=1e-12, abs=0)
