"""fastmlp: scikit-learn's multilayer perceptrons, trained by Numba-compiled backprop kernels."""

from ._classifier import MLPClassifier
from ._conversion import from_sklearn
from ._regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "from_sklearn"]
__version__ = "0.1.0"
