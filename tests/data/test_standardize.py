"""Per-element standardization: statistics of the training split, inversion, the log-Jacobian."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaebalance.data import Dataset, Standardization
from vaebalance.errors import UserError

RNG = np.random.default_rng(0)


def real_table(n: int = 50, d: int = 4) -> np.ndarray:
    """Columns on very different scales, one of them constant."""
    x = RNG.normal(size=(n, d)) * np.array([0.01, 1.0, 300.0, 0.0][:d]) + np.arange(d) * 10
    return x.astype(np.float32)


def test_fit_is_numpy_mean_and_population_std_with_constant_elements_at_one():
    x = real_table()
    st = Standardization.fit(torch.from_numpy(x), chunk=7)  # several blocks, one partial
    np.testing.assert_allclose(st.mean.numpy(), x.astype(np.float64).mean(0), rtol=1e-6)
    expected = x.astype(np.float64).std(0)
    expected[expected == 0] = 1.0
    np.testing.assert_allclose(st.std.numpy(), expected, rtol=1e-5)
    assert st.log_det_nats == pytest.approx(float(np.log(expected).sum()), rel=1e-6)


def test_apply_and_invert_round_trip():
    x = torch.from_numpy(real_table())
    st = Standardization.fit(x)
    y = st.apply(x)
    torch.testing.assert_close(y[:, :3].mean(0), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(y[:, :3].std(0, unbiased=False), torch.ones(3), atol=1e-4, rtol=0)
    torch.testing.assert_close(st.invert(y), x, rtol=1e-5, atol=1e-4)


def test_dataset_standardizes_per_batch_from_the_training_split_only():
    train = torch.from_numpy(real_table(40))
    test = train[:5] * 3 + 1  # other statistics: must not enter the fit
    data = Dataset(name="t", train=train, test=test, shape=(4,)).standardized()
    st = Standardization.fit(train)
    torch.testing.assert_close(data.standardization.mean, st.mean)
    torch.testing.assert_close(data.to_float(data.test), (test - st.mean) / st.std)
    assert data.log_det_nats == pytest.approx(st.log_det_nats)
    torch.testing.assert_close(data.to_data_units(data.to_float(data.test)), test, rtol=1e-5,
                               atol=1e-3)  # fmt: skip
    assert data.train is train  # stored as given; standardized per batch


def test_eight_bit_data_are_standardized_after_scaling_to_unit_interval():
    pixels = torch.from_numpy(RNG.integers(0, 256, (30, 1, 2, 3), dtype=np.uint8))
    data = Dataset(name="p", train=pixels, test=pixels[:3], shape=(1, 2, 3)).standardized()
    assert data.eight_bit  # the 8-bit correction of bits/dim still applies
    unit = pixels.double() / 255
    expected = (unit - unit.mean(0)) / unit.std(0, unbiased=False)
    torch.testing.assert_close(data.to_float(pixels).double(), expected, rtol=1e-4, atol=1e-4)


def test_a_given_standardization_is_used_as_is():
    train = torch.from_numpy(real_table(20))
    given = Standardization(torch.full((4,), 2.0), torch.full((4,), 4.0))
    data = Dataset(name="t", train=train, test=train[:2], shape=(4,)).standardized(given)
    torch.testing.assert_close(data.to_float(train), (train - 2) / 4)
    assert data.log_det_nats == pytest.approx(4 * np.log(4.0))


@pytest.mark.parametrize(
    "tensors",
    [
        {"mean": torch.zeros(4)},
        {"mean": torch.zeros(3), "std": torch.ones(3)},
        {"mean": torch.zeros(4), "std": torch.tensor([1.0, 0.0, 1.0, 1.0])},
        {"mean": torch.tensor([0.0, float("nan"), 0, 0]), "std": torch.ones(4)},
    ],
)
def test_damaged_stored_statistics_are_refused(tensors):
    with pytest.raises(UserError, match=r"s.safetensors does not hold a finite mean and a posit"):
        Standardization.from_tensors(tensors, (4,), "s.safetensors")
