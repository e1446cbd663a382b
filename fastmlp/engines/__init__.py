"""Engines: interchangeable implementations of the backprop kernel interface.

``numpy`` is the reference, ``numba`` the compiled default. Both modules expose the
same functions with the same signatures; see ``numpy_engine`` for the contract.
"""

import importlib

ENGINES = ("numba", "numpy")


def get_engine(name):
    """Return the engine module called ``name`` ("numba" or "numpy")."""
    if name not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {name!r}")
    return importlib.import_module(f"{__name__}.{name}_engine")
