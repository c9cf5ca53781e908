"""The loss conventions people copy, as data: what each original computes, read from its source.

Each :class:`Preset` records, in words, the lines of the original that set the objective (the
reconstruction term and its reductions, the KL term and its reductions, the weight) with a link
and the version the description was read from; :mod:`.presets` turns them into numbers with the
machinery of :mod:`.explain`. ``docs/presets.md`` shows the same descriptions.

The weight of a convention may depend on the batch size M and the data size N (PyTorch-VAE's
``M_N``, scvi-tools' warm-up length); ``weight(M, N)`` computes it, with None for a size the user
did not give (the preset's default is then used).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    """One convention.

    Attributes:
        recon: "mse" (squared error), "bce" (binary cross-entropy) or "nll" (the likelihood's own
            negative log-likelihood, summed over elements, e.g. scvi-tools' negative binomial).
        recon_reduction / kl_reduction: "sum" or "mean" over input elements / latent dims (the
            batch reduction, applied to both terms alike, does not change β).
        recon_scale: the constant in front of the reconstruction term (pythae's ½).
        weight: (M, N) → the weight on the KL term, M the batch size and N the data size.
        likelihood: the vaebalance likelihood whose NLL the reconstruction term is a multiple of.
    """

    name: str
    title: str
    url: str
    version: str
    encodes: tuple[str, ...]
    recon: str
    recon_reduction: str
    kl_reduction: str
    input_shape: tuple[int, ...]
    latent_dim: int
    batch_size: int
    dataset_size: int
    weight: Callable[[int | None, int | None], float]
    weight_rule: str
    likelihood: str
    recon_scale: float = 1.0
    notes: tuple[str, ...] = ()


def _constant(w: float) -> Callable[[int | None, int | None], float]:
    return lambda batch_size, dataset_size: w


def _pytorch_vae_weight(batch_size: int | None, dataset_size: int | None) -> float:
    """``kld_weight``: the configs' 0.00025, or M/N where the user gives both (the repository's
    earlier ``M_N = batch_size / num_train_imgs``)."""
    if batch_size is not None and dataset_size is not None:
        return batch_size / dataset_size
    return 0.00025


SCVI_EPOCHS_CAP = 400  # get_max_epochs_heuristic: epochs_cap
SCVI_DECAY_AT = 20_000  # get_max_epochs_heuristic: decay_at_n_obs
SCVI_WARMUP_EPOCHS = 400  # TrainingPlan: n_epochs_kl_warmup


def scvi_max_epochs(n_obs: int) -> int:
    """scvi-tools' default ``max_epochs``: min(round(20000 / N · 400), 400), at least 1."""
    return max(1, min(round(SCVI_DECAY_AT / n_obs * SCVI_EPOCHS_CAP), SCVI_EPOCHS_CAP))


def scvi_final_kl_weight(n_obs: int) -> float:
    """The KL weight of scvi-tools' last epoch with the defaults: the warm-up is linear in the
    epoch index e (0-based) over 400 epochs, ``kl_weight = e / 400`` while e < 400, so the last
    epoch, e = max_epochs − 1, trains with (max_epochs − 1) / 400 — below 1 whenever N > 0."""
    last_epoch = scvi_max_epochs(n_obs) - 1
    return min(last_epoch / SCVI_WARMUP_EPOCHS, 1.0)


def _scvi_weight(batch_size: int | None, dataset_size: int | None) -> float:
    return scvi_final_kl_weight(dataset_size if dataset_size is not None else 10_000)


PRESETS: tuple[Preset, ...] = (
    Preset(
        name="pytorch-vae",
        title="AntixK/PyTorch-VAE, VanillaVAE",
        url="https://github.com/AntixK/PyTorch-VAE/blob/master/models/vanilla_vae.py",
        version="master branch as of its last commit (2021; the repository has no releases)",
        encodes=(
            "The reconstruction term is F.mse_loss(recons, input) with PyTorch's default "
            "reduction: one mean over every element of the batch (pixels, channels, examples).",
            "The KL is -0.5 * sum(1 + log_var - mu^2 - exp(log_var)) summed over the latent "
            "dims, then averaged over the batch.",
            "loss = recons_loss + kld_weight * kld_loss, with kld_weight passed in as M_N: "
            "0.00025 in configs/vae.yaml (earlier versions: batch size / number of training "
            "images).",
            "Default data: CelebA cropped to 3 x 64 x 64, latent_dim 128, batch size 64.",
        ),
        recon="mse",
        recon_reduction="mean",
        kl_reduction="sum",
        input_shape=(3, 64, 64),
        latent_dim=128,
        batch_size=64,
        dataset_size=162_770,
        weight=_pytorch_vae_weight,
        weight_rule="0.00025 (configs/vae.yaml); M/N when a batch size and a data size are given",
        likelihood="gaussian",
        notes=(
            "Only the KL carries the weight, and the reconstruction is a mean over "
            "12288 elements: the KL weight relative to the summed squared error is "
            "0.00025 x 12288 = 3.07, not 0.00025.",
        ),
    ),
    Preset(
        name="lightning-bolts",
        title="Lightning-Universe/lightning-bolts, VAE (basic_vae_module.py)",
        url="https://github.com/Lightning-Universe/lightning-bolts/blob/master/src/pl_bolts/"
        "models/autoencoders/basic_vae/basic_vae_module.py",
        version="lightning-bolts 0.7.0",
        encodes=(
            "recon_loss = F.mse_loss(x_hat, x, reduction='mean'): a mean over every element of "
            "the batch.",
            "The KL is log q(z|x) - log p(z) at the sampled z, per latent dim (q and p are "
            "Normal, not Independent), then .mean() over the batch and the latent dims; its "
            "expectation is the analytic KL averaged over dims.",
            "loss = kl_coeff * kl + recon_loss with kl_coeff = 0.1.",
            "Default data: CIFAR-10, 3 x 32 x 32, latent_dim 256, batch size 256.",
        ),
        recon="mse",
        recon_reduction="mean",
        kl_reduction="mean",
        input_shape=(3, 32, 32),
        latent_dim=256,
        batch_size=256,
        dataset_size=45_000,
        weight=_constant(0.1),
        weight_rule="kl_coeff = 0.1",
        likelihood="gaussian",
        notes=(
            "The KL is a one-sample Monte Carlo estimate; the numbers here are for its "
            "expectation, which is what the gradient follows on average.",
            "Both terms are means, so the weight on the summed KL is 0.1 x K / J: it grows with "
            "the image and shrinks with the latent space.",
        ),
    ),
    Preset(
        name="keras-example",
        title="Keras examples, variational_autoencoder.py (MLP on MNIST)",
        url="https://github.com/keras-team/keras/blob/2.2.4/examples/variational_autoencoder.py",
        version="Keras 2.2.4",
        encodes=(
            "reconstruction_loss = binary_crossentropy(inputs, outputs), which averages over "
            "the 784 pixels, then reconstruction_loss *= original_dim (784): the BCE summed "
            "over pixels.",
            "kl_loss = -0.5 * sum(1 + z_log_var - z_mean^2 - exp(z_log_var)) over the latent dims.",
            "vae_loss = K.mean(reconstruction_loss + kl_loss): a mean over the batch.",
            "Default data: MNIST flattened to 784 in [0, 1], latent_dim 2, batch size 128.",
        ),
        recon="bce",
        recon_reduction="sum",
        kl_reduction="sum",
        input_shape=(1, 28, 28),
        latent_dim=2,
        batch_size=128,
        dataset_size=60_000,
        weight=_constant(1.0),
        weight_rule="1 (no weight)",
        likelihood="bernoulli",
        notes=(
            "The factor original_dim undoes the mean over pixels, so this is the Bernoulli "
            "ELBO itself (beta = 1) for any image size.",
        ),
    ),
    Preset(
        name="keras-io-2020",
        title="keras-io, examples/generative/vae.py (the 2020 version)",
        url="https://github.com/keras-team/keras-io/blob/master/examples/generative/vae.py",
        version="keras-io as of mid-2020 (before the fix that followed keras-io issue #270)",
        encodes=(
            "reconstruction_loss = tf.reduce_mean(binary_crossentropy(data, reconstruction)) "
            "* 28 * 28: the BCE summed over pixels (averaged over the batch).",
            "kl_loss = -0.5 * tf.reduce_mean(1 + z_log_var - z_mean^2 - exp(z_log_var)): a "
            "mean over the latent dims and the batch.",
            "total_loss = reconstruction_loss + kl_loss.",
            "Default data: MNIST 28 x 28 in [0, 1], latent_dim 2.",
        ),
        recon="bce",
        recon_reduction="sum",
        kl_reduction="mean",
        input_shape=(1, 28, 28),
        latent_dim=2,
        batch_size=128,
        dataset_size=70_000,
        weight=_constant(1.0),
        weight_rule="1 (no weight)",
        likelihood="bernoulli",
        notes=(
            "The KL's mean over latent dims is a weight of 1/J on the summed KL: beta = 0.5 at "
            "J = 2, beta = 0.0625 at J = 16 (keras-io issue #270; the current example sums).",
        ),
    ),
    Preset(
        name="pythae",
        title="clementchadebec/benchmark_VAE (pythae), VAE and BetaVAE",
        url="https://github.com/clementchadebec/benchmark_VAE/blob/main/src/pythae/models/"
        "beta_vae/beta_vae_model.py",
        version="pythae 0.1.2",
        encodes=(
            "With reconstruction_loss='mse' (the default): recon_loss = 0.5 * F.mse_loss(..., "
            "reduction='none').sum(dim=-1): half the squared error summed over the flattened "
            "input.",
            "KLD = -0.5 * sum(1 + log_var - mu^2 - exp(log_var)) over the latent dims.",
            "loss = (recon_loss + beta * KLD).mean(dim=0), beta = 1 for VAE and the "
            "BetaVAEConfig default.",
            "Default data in this preset: MNIST 1 x 28 x 28, latent_dim 10 (pythae's configs "
            "set both per experiment).",
        ),
        recon="mse",
        recon_reduction="sum",
        kl_reduction="sum",
        recon_scale=0.5,
        input_shape=(1, 28, 28),
        latent_dim=10,
        batch_size=100,
        dataset_size=60_000,
        weight=_constant(1.0),
        weight_rule="beta = 1",
        likelihood="gaussian",
        notes=(
            "Half the summed squared error is the NLL of a unit-variance Gaussian (up to a "
            "constant): beta is the beta of a sigma = 1 decoder, for any K and J.",
        ),
    ),
    Preset(
        name="disent",
        title="nmichlo/disent, BetaVae",
        url="https://github.com/nmichlo/disent/blob/main/disent/frameworks/vae/"
        "_unsupervised__betavae.py",
        version="disent 0.8 (the BetaVae.cfg comment on beta scaling)",
        encodes=(
            "With loss_reduction='mean' the reconstruction loss (recon_loss='mse') is a mean "
            "over every element and the KL a mean over the latent dims.",
            "loss = mean_recon_loss + beta * mean_kl_loss with beta = 0.003.",
            "The cfg's own comment: 0.003 is about beta = 4 of the 'mean_sum' mode (sums over "
            "elements and dims) for 64 x 64 x 3 images and z_size = 9.",
        ),
        recon="mse",
        recon_reduction="mean",
        kl_reduction="mean",
        input_shape=(3, 64, 64),
        latent_dim=9,
        batch_size=256,
        dataset_size=737_280,
        weight=_constant(0.003),
        weight_rule="beta = 0.003",
        likelihood="gaussian",
        notes=(
            "beta = 0.003 means a weight of 0.003 x K / J on the summed KL: about 4.1 for "
            "3 x 64 x 64 and 9 dims, but 0.26 for 1 x 28 x 28 and 9 dims.",
        ),
    ),
    Preset(
        name="pytorch-examples",
        title="pytorch/examples, vae/main.py",
        url="https://github.com/pytorch/examples/blob/main/vae/main.py",
        version="main branch, 2024",
        encodes=(
            "BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction='sum'): summed "
            "over pixels and the batch.",
            "KLD = -0.5 * torch.sum(1 + logvar - mu^2 - logvar.exp()): summed over latent dims "
            "and the batch.",
            "loss = BCE + KLD.",
            "Default data: MNIST 784 in [0, 1], 20 latent dims, batch size 128.",
        ),
        recon="bce",
        recon_reduction="sum",
        kl_reduction="sum",
        input_shape=(1, 28, 28),
        latent_dim=20,
        batch_size=128,
        dataset_size=60_000,
        weight=_constant(1.0),
        weight_rule="1 (no weight)",
        likelihood="bernoulli",
        notes=("Sums everywhere: the Bernoulli ELBO (beta = 1) for any K and J.",),
    ),
    Preset(
        name="scvi-tools",
        title="scverse/scvi-tools, SCVI (VAE module and TrainingPlan)",
        url="https://github.com/scverse/scvi-tools/blob/main/src/scvi/train/_trainingplans.py",
        version="scvi-tools 1.x (1.1 to 1.3)",
        encodes=(
            "reconst_loss = -px.log_prob(x).sum(-1): the (zero-inflated) negative binomial NLL "
            "summed over genes.",
            "kl_divergence_z = kl(qz, pz).sum(dim=-1): summed over latent dims (n_latent = 10).",
            "loss = mean over the batch of reconst_loss + kl_weight * kl_divergence_z.",
            "kl_weight warms up linearly with the epoch index e: e / n_epochs_kl_warmup while "
            "e < 400 (TrainingPlan default n_epochs_kl_warmup = 400), then 1.",
            "max_epochs defaults to min(round(20000 / n_cells x 400), 400): beyond 20000 cells "
            "training stops before the warm-up ends, and the last epoch trains with "
            "(max_epochs - 1) / 400.",
        ),
        recon="nll",
        recon_reduction="sum",
        kl_reduction="sum",
        input_shape=(2000,),
        latent_dim=10,
        batch_size=128,
        dataset_size=10_000,
        weight=_scvi_weight,
        weight_rule="the last epoch's warm-up weight (max_epochs - 1) / 400 with max_epochs = "
        "min(round(20000 / N x 400), 400)",
        likelihood="negative binomial (not in vaebalance)",
        notes=(
            "With 100,000 cells training stops after 80 epochs, at kl_weight = 79/400 = 0.1975: "
            "the model is a beta-VAE with beta of about 0.2, not the VAE the docs describe.",
        ),
    ),
)
