"""scikit-learn's common estimator checks, configured as scikit-learn configures its own MLPs.

scikit-learn's ``sklearn/tests/test_common.py`` runs ``parametrize_with_checks`` over
instances built from ``INIT_PARAMS`` (``MLPClassifier(max_iter=100)``,
``MLPRegressor(max_iter=100)``), re-parametrizes single checks from
``PER_ESTIMATOR_CHECK_PARAMS`` (for the MLPs, the dense sample-weight equivalence check
runs with ``solver="lbfgs"`` for the classifier and ``solver="sgd", tol=1e-2,
random_state=42`` for the regressor), marks the checks of
``_get_expected_failed_checks`` as xfail (none for the MLPs), and ignores
FutureWarning, ConvergenceWarning, UserWarning and LinAlgWarning. This file reads those
same tables for the scikit-learn counterpart of each fastmlp estimator, so it uses
exactly scikit-learn's configuration and no more. (scikit-learn applies the per-check
parameters only to its own classes, so the test applies them here.)
"""

from scipy.linalg import LinAlgWarning
from sklearn import neural_network
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._test_common.instance_generator import (
    INIT_PARAMS,
    PER_ESTIMATOR_CHECK_PARAMS,
    _get_expected_failed_checks,
)
from sklearn.utils._testing import ignore_warnings
from sklearn.utils.estimator_checks import parametrize_with_checks

import fastmlp

SKLEARN_COUNTERPART = {
    fastmlp.MLPClassifier: neural_network.MLPClassifier,
    fastmlp.MLPRegressor: neural_network.MLPRegressor,
}


def _instances():
    return [ours(**INIT_PARAMS[theirs]) for ours, theirs in SKLEARN_COUNTERPART.items()]


def _counterpart(estimator):
    """The scikit-learn estimator with the same (shared) parameters."""
    theirs = SKLEARN_COUNTERPART[type(estimator)]
    shared = set(theirs().get_params())
    return theirs(**{k: v for k, v in estimator.get_params().items() if k in shared})


def _expected_failed_checks(estimator):
    return _get_expected_failed_checks(_counterpart(estimator))


def _check_params(estimator, check):
    """scikit-learn's PER_ESTIMATOR_CHECK_PARAMS entry for this estimator and check."""
    check_name = getattr(check, "func", check).__name__
    param_sets = PER_ESTIMATOR_CHECK_PARAMS.get(SKLEARN_COUNTERPART[type(estimator)], {}).get(check_name)
    if param_sets is None:
        return [None]
    return [param_sets] if isinstance(param_sets, dict) else list(param_sets)


@parametrize_with_checks(_instances(), expected_failed_checks=_expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    with ignore_warnings(category=(FutureWarning, ConvergenceWarning, UserWarning, LinAlgWarning)):
        for params in _check_params(estimator, check):
            instance = estimator if params is None else clone(estimator).set_params(**params)
            check(instance)


def test_configuration_is_sklearns():
    assert INIT_PARAMS[neural_network.MLPClassifier] == {"max_iter": 100}
    assert INIT_PARAMS[neural_network.MLPRegressor] == {"max_iter": 100}
    assert [est.get_params()["max_iter"] for est in _instances()] == [100, 100]
