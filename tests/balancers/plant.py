"""A stub of a VAE in training, for controller tests: its MSE and KL follow β with a lag.

The "model" has a state s (the log of the quantity it produces) that relaxes towards its
steady value at the current β with time constant ``lag`` steps, on top of a learning curve
that starts ``learning`` × higher and decays over ``learn_steps`` steps (an untrained network
reconstructs badly whatever β is). Its steady values are power laws with a floor, so the β that
reaches a target is known exactly:

    steady(β) = floor + scale · β^elasticity      (elasticity > 0: MSE; < 0: KL)

With ``floor_power`` > 0 the floor itself falls through the run, floor·(1 + t/floor_t0)^−p:
what an autoencoder (β → 0) reaches by step t. Early on no β closes the gap; only learning does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from vaebalance.balancers import Context, Stats, Weights
from vaebalance.likelihoods import get as get_likelihood


@dataclass
class Plant:
    scale: float
    elasticity: float
    floor: float = 0.0
    lag: float = 40.0
    learning: float = 3.0
    learn_steps: float = 200.0
    noise: float = 0.05
    floor_power: float = 0.0
    floor_t0: float = 100.0

    def steady(self, beta: float, t: float = 0.0) -> float:
        floor = self.floor * (1 + t / self.floor_t0) ** -self.floor_power
        return floor + self.scale * beta**self.elasticity

    def beta_for(self, target: float) -> float:
        """The β whose steady value is ``target`` (the exact answer a controller should find)."""
        return ((target - self.floor) / self.scale) ** (1 / self.elasticity)


def drive(balancer, plant: Plant, steps: int, measure: str, seed: int = 0, on_step=None):
    """Run ``balancer`` against ``plant`` for ``steps`` steps; returns (measured, betas)."""
    balancer.bind(Context(64, 4, get_likelihood("bernoulli"), total_steps=steps))
    balancer.train()
    g = torch.Generator().manual_seed(seed)
    value = plant.steady(1.0) * (1 + plant.learning)
    measured, betas = [], []
    for t in range(steps):
        x = value * math.exp(plant.noise * float(torch.randn((), generator=g)))
        mse, rate = (x, 1.0) if measure == "mse" else (0.01, x)
        stats = Stats(torch.tensor(rate), torch.tensor(0.0), torch.tensor([rate]),
                      torch.tensor(mse), torch.tensor(t))  # fmt: skip
        beta = float(balancer(stats, Weights(), True).beta)
        measured.append(x)
        betas.append(beta)
        if on_step is not None:
            on_step(t, balancer)
        learning = 1 + plant.learning * math.exp(-(t + 1) / plant.learn_steps)
        goal = plant.steady(beta, t + 1) * learning
        value += (goal - value) / plant.lag
    return measured, betas


def tail_mean(values, fraction=0.05):
    n = max(1, int(len(values) * fraction))
    return sum(values[-n:]) / n
