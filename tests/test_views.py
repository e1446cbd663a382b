"""``engines/numba_engine/_views``: reference-free views of flat buffers, as the compiled
epoch takes them. Each must read and write the very memory that slicing and reshaping
give, for both dtypes and at any offset."""

import numpy as np
import pytest

from fastmlp._numba_options import kernel
from fastmlp.engines.numba_engine._views import view1d, view2d


@kernel
def _views_of(buf, offset, rows, cols):
    return view1d(buf, offset, rows * cols).copy(), view2d(buf, offset, rows, cols).copy()


@kernel
def _write_through(buf, offset, rows, cols):
    view = view2d(buf, offset, rows, cols)
    for i in range(rows):
        for j in range(cols):
            view[i, j] = -(i * cols + j) - 1.0
    flat = view1d(buf, offset, rows * cols)
    flat[0] = 100.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("offset, rows, cols", [(0, 1, 1), (0, 3, 5), (7, 4, 2), (13, 1, 9), (2, 6, 1)])
def test_views_read_the_slices(dtype, offset, rows, cols):
    buf = np.arange(40, dtype=dtype) * 1.5
    flat, matrix = _views_of(buf, offset, rows, cols)
    np.testing.assert_array_equal(flat, buf[offset:offset + rows * cols])
    np.testing.assert_array_equal(matrix, buf[offset:offset + rows * cols].reshape(rows, cols))
    assert flat.dtype == matrix.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_views_write_into_the_buffer_and_nowhere_else(dtype):
    buf = np.zeros(30, dtype=dtype)
    _write_through(buf, 11, 3, 4)
    expected = np.zeros(30, dtype=dtype)
    expected[11:23] = -np.arange(1, 13)
    expected[11] = 100.0
    np.testing.assert_array_equal(buf, expected)
