"""The network's layout as the kernels take it: int64 arrays, made once per architecture."""

import functools

import numpy as np

from ..._params import param_offsets


@functools.lru_cache(maxsize=64)
def _arrays(layer_units):
    return param_offsets(layer_units), np.asarray(layer_units, dtype=np.int64)


def network_arrays(layer_units):
    """(offsets, units): ``fastmlp._params.param_offsets(layer_units)`` and the units per
    layer, int64 arrays, cached per architecture."""
    return _arrays(tuple(int(u) for u in layer_units))
