"""Moving a VAE's codes onto the prior's moments without changing anything it decodes.

The KL of a diagonal Gaussian posterior from N(0, I), averaged over examples, splits per latent
dim j into a part an affine change of the code removes and a part it does not:

    E_x KL(q(z_j|x) ‖ N(0, 1)) = ½(m_j² + v_j − 1 − log v_j) + ½ E_x[log v_j − log σ²_j(x)],

with m_j = E_x μ_j(x) and v_j = Var_x μ_j(x) + E_x σ²_j(x) the mean and variance of the
aggregate posterior q(z_j). The first term is KL(N(m_j, v_j) ‖ N(0, 1)) (the "moment KL").
Under z'_j = (z_j − m_j)/√v_j it becomes 0 and the second term does not change. When the
encoder's last layer and the decoder's first are affine, the change is absorbed into their
weights (encoder rows divided by √v_j and shifted, decoder columns multiplied by √v_j, its bias
moved by W m), so every reconstruction and every sample path through the decoder stays as it
was: the rate falls by exactly the moment KL and the distortion does not move. Every optimum of
the (β-)ELBO with such a model therefore has m_j = 0 and v_j = 1 — the scale and offset of the
code are a symmetry only the prior breaks — and a trained model whose codes sit off them is
short of that optimum by a known amount of rate. Gradient
descent moves along that direction slowly (the decoder has to undo each step of the encoder), so
:func:`standardize_codes` makes the step exactly.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def _leaves(module: nn.Module) -> list[nn.Module]:
    """The modules a chain of ``nn.Sequential``\\s applies, in order; a module that is not a
    Sequential is one leaf (what it does inside is not known here)."""
    if isinstance(module, nn.Sequential):
        return [leaf for child in module for leaf in _leaves(child)]
    return [module]


def affine_ends(vae) -> tuple[nn.Linear, nn.Linear] | None:
    """The encoder's last layer and the decoder's first, when both are affine maps that touch
    the code directly (the encoder's output is the Linear's, the decoder's input is the
    Linear's); None for models built otherwise."""
    j = vae.latent_dim
    enc, dec = _leaves(vae.encoder), _leaves(vae.decoder)
    last, first = enc[-1], dec[0]
    if not (isinstance(last, nn.Linear) and isinstance(first, nn.Linear)):
        return None
    if last.out_features != 2 * j or first.in_features != j or last.bias is None:
        return None
    return last, first


@torch.no_grad()
def standardize_codes(vae, mean: Tensor, var: Tensor) -> None:
    """Change the code to z' = (z − mean)/√var in place, decoding every z' as the model decoded
    z before: the encoder's μ rows become (μ − mean)/√var, its log σ² rows drop log var, the
    decoder's first layer takes √var·z' + mean.

    Args:
        vae: a :class:`~.vae.VAE` with :func:`affine_ends`.
        mean, var: [J] the aggregate posterior's mean and variance per latent dim (var > 0).
    """
    ends = affine_ends(vae)
    if ends is None:
        raise ValueError("standardize_codes needs an encoder ending and a decoder beginning with "
                         "an affine layer on the code")  # fmt: skip
    enc, dec = ends
    j = vae.latent_dim
    m, v = mean.double().to(enc.weight.device), var.double().to(enc.weight.device)
    s = v.sqrt()
    w, b = enc.weight.double(), enc.bias.double()
    w[:j] /= s[:, None]
    b[:j] = (b[:j] - m) / s
    b[j:] -= v.log()
    enc.weight.copy_(w)
    enc.bias.copy_(b)
    w_dec = dec.weight.double()
    if dec.bias is not None:
        dec.bias.copy_(dec.bias.double() + w_dec @ m)
    elif bool((m != 0).any()):
        raise ValueError("the decoder's first layer has no bias to take the codes' mean")
    dec.weight.copy_(w_dec * s[None, :])
