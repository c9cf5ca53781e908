"""Plugging vaebalance's objective into the training loops people already use.

- :mod:`.lightning`: a ``LightningModule`` around any encoder/decoder pair and an ``ELBOLoss``
  (needs the optional extra ``vaebalance[lightning]``).

This layer sits above ``runs``/``evaluation`` and below ``cli``: it may use the objective, the
models and the evaluation, and nothing imports it but the user.
"""
