"""The check of ``diagnose`` on training length: a held-out ELBO that got worse while the
training ELBO kept improving is overfitting, whatever the balance."""

from __future__ import annotations

from ...schema import evidence
from .facts import Facts, number
from .fixes import fix_args
from .verdict import Verdict

# Worse by more than 0.5% of the best held-out −ELBO (epoch-to-epoch noise on a few hundred
# examples is well below that), with the best epoch in the first 80% of the run.
RISE_FRACTION = 0.005
EARLY_FRACTION = 0.8


def overfitting(f: Facts) -> Verdict | None:
    split = "val" if any(r.split == "val" for r in f.history) else "test"
    held_out = _curve(f, split)
    train = _curve(f, "train")
    if len(held_out) < 5 or len(train) < 5:
        return None
    best_epoch, best = min(held_out, key=lambda p: (p[1], p[0]))
    last_epoch, last = held_out[-1]
    train_at_best = dict(train).get(best_epoch)
    rose = last - best > RISE_FRACTION * abs(best)
    early = best_epoch <= EARLY_FRACTION * last_epoch
    still_learning = train_at_best is not None and train[-1][1] < train_at_best
    if not (rose and early and still_learning):
        return None
    name = "validation" if split == "val" else "held-out (test)"
    message = (
        f"Overfitting: the {name} −ELBO was best at epoch {best_epoch} ({best:.4g} nats) and "
        f"rose to {last:.4g} by epoch {last_epoch}, while the training −ELBO kept falling "
        f"({train_at_best:.4g} → {train[-1][1]:.4g}). Stop at the best epoch, or use more data."
    )
    fix = fix_args(f, {"train.epochs": best_epoch})
    numbers = {**evidence(epochs=last_epoch), "best_epoch": best_epoch,
               "best_neg_elbo_nats": best, "last_neg_elbo_nats": last}  # fmt: skip
    return Verdict("overfitting", "warning", "overfitting", message, " ".join(fix), numbers, fix)


def _curve(f: Facts, split: str) -> list[tuple[int, float]]:
    """(epoch, −ELBO) of one split, in epoch order."""
    points = []
    for r in f.history:
        epoch, elbo = number(r.epoch), number(r.elbo_nats)
        if r.split == split and epoch is not None and elbo is not None:
            points.append((int(epoch), -elbo))
    return sorted(points)
