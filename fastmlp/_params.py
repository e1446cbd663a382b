"""One flat parameter vector per network, and views of it as per-layer arrays.

Layout, scikit-learn's ``_pack`` order: every coefficient matrix (row-major), then
every intercept vector. The same layout serves the compiled training loop (one fused
optimizer step over all parameters), L-BFGS (which needs a packed vector) and the
optimizer's state vectors.
"""

import numpy as np


def param_offsets(layer_units):
    """Boundaries of each block in the flat vector.

    Parameters
    ----------
    layer_units : sequence of int, length L + 1
        Units per layer, inputs first.

    Returns
    -------
    offsets : ndarray of int64, shape (2 * L + 1,)
        Coefficients of layer ``i`` are ``[offsets[i], offsets[i + 1])`` and its
        intercepts ``[offsets[L + i], offsets[L + i + 1])``; ``offsets[-1]`` is the size.
    """
    units = [int(u) for u in layer_units]
    sizes = [a * b for a, b in zip(units[:-1], units[1:])] + units[1:]
    return np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)


def pack(coefs, intercepts, dtype=None):
    """Concatenate coefficient matrices then intercept vectors into a new 1-D array."""
    return np.concatenate([np.ravel(p) for p in list(coefs) + list(intercepts)]).astype(
        dtype if dtype is not None else coefs[0].dtype, copy=False
    )


def unpack(theta, layer_units):
    """Views of ``theta`` as ``(coefs, intercepts)`` lists; writes to them write theta."""
    offsets = param_offsets(layer_units)
    n_layers = len(layer_units) - 1
    coefs = [
        theta[offsets[i] : offsets[i + 1]].reshape(layer_units[i], layer_units[i + 1])
        for i in range(n_layers)
    ]
    intercepts = [theta[offsets[n_layers + i] : offsets[n_layers + i + 1]] for i in range(n_layers)]
    return coefs, intercepts
