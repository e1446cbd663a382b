"""Names of activations and losses, and the integer codes compiled kernels use.

The public strings are scikit-learn's (plus fastmlp's ``leaky_relu`` and ``softplus``);
compiled code dispatches on the integer codes, never on passed-in functions, so that
every kernel is cached once per dtype.
"""

IDENTITY, LOGISTIC, TANH, RELU, LEAKY_RELU, SOFTPLUS, SOFTMAX, EXP = range(8)

ACTIVATION_CODES = {
    "identity": IDENTITY,
    "logistic": LOGISTIC,
    "tanh": TANH,
    "relu": RELU,
    "leaky_relu": LEAKY_RELU,
    "softplus": SOFTPLUS,
    "softmax": SOFTMAX,
    "exp": EXP,
}

#: Activations allowed in hidden layers (softmax and exp are output-only).
HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu", "leaky_relu", "softplus")
#: Output activations, each paired with its canonical loss.
OUTPUT_ACTIVATIONS = ("identity", "logistic", "softmax", "exp")

#: Slope of leaky_relu for negative inputs.
LEAKY_RELU_SLOPE = 0.01

SQUARED_ERROR, POISSON, LOG_LOSS, BINARY_LOG_LOSS = range(4)

LOSS_CODES = {
    "squared_error": SQUARED_ERROR,
    "poisson": POISSON,
    "log_loss": LOG_LOSS,
    "binary_log_loss": BINARY_LOG_LOSS,
}

#: The output activation that makes ``delta = out - Y`` the exact loss gradient.
CANONICAL_OUTPUT = {
    "squared_error": "identity",
    "poisson": "exp",
    "log_loss": "softmax",
    "binary_log_loss": "logistic",
}

SGD, ADAM = range(2)
