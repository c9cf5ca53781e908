"""The names the CLI's help lists, kept here so that ``--help`` need not import torch to build
the registries; ``tests/cli/test_names.py`` checks they are exactly the registered ones."""

DATASETS = ("digits", "fashion-mnist", "mnist", "cifar10", "sprites")
LIKELIHOODS = (
    "auto",
    "bernoulli",
    "continuous-bernoulli",
    "gaussian",
    "gaussian-learned",
    "gaussian-optimal",
    "gaussian-perpixel",
    "laplace",
)
BALANCERS = (
    "capacity",
    "constant",
    "control",
    "cyclical",
    "dynamic",
    "free-bits",
    "geco",
    "warmup",
)
ARCHITECTURES = ("conv", "mlp")
