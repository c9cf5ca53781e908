"""``diagnose_model``: the verdicts of ``diagnose`` for a model trained in anyone's loop."""

from __future__ import annotations

from torch import Tensor, nn

from .diagnose import Verdict, diagnose
from .evaluate import evaluate_model


def diagnose_model(
    model: nn.Module,
    likelihood,
    x: Tensor,
    *,
    beta: float | None = None,
    iw_samples: int = 0,
    batch_size: int = 256,
    seed: int = 0,
) -> list[Verdict]:
    """Measure ``model`` on held-out examples ``x`` and judge its balance, as ``vaebalance
    diagnose`` judges a run: posterior collapse, KL domination, an ignored KL, unused dims.

    Args:
        model: a VAE with ``encode(x) -> (mu, logvar)`` and ``decode(z)`` (vaebalance's models,
            or any module with that interface).
        likelihood: the decoder's likelihood (``loss_fn.likelihood``) or its name.
        x: held-out examples ``[N ≥ 2, *shape]`` as the model takes them.
        beta: the KL weight it was trained with, if constant (part of the evidence).
        iw_samples: importance samples for the NLL (0: skip it, the checks do not need it).

    Example::

        verdicts = diagnose_model(model, loss_fn.likelihood, x_test, beta=4.0)
        print(format_verdicts(verdicts))
    """
    metrics = evaluate_model(model, likelihood, x, iw_samples=iw_samples,
                             batch_size=batch_size, seed=seed)  # fmt: skip
    config = {} if beta is None else {"balancer": {"name": "constant", "beta": beta}}
    return diagnose(metrics, [], config)
