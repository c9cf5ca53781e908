"""Disentanglement metrics, as disentanglement_lib defines them (one module per family).

- :func:`disentanglement` (observational, anyone's codes): MIG (:mod:`.mig`), DCI (:mod:`.dci`),
  SAP (:mod:`.sap`), modularity and explicitness (:mod:`.modularity`).
- :func:`betavae_score`, :func:`factorvae_score` (interventional, :mod:`.interventional`): need
  a factor grid that can draw examples with a factor held fixed (the ``sprites`` dataset).
- :func:`factor_metrics`: all of them for a trained VAE on a dataset with factors.
"""

from .interventional import betavae_score as betavae_score
from .interventional import factorvae_score as factorvae_score
from .mig import histogram_discretize as histogram_discretize
from .mig import mig as mig
from .mig import mutual_info_matrix as mutual_info_matrix
from .model import encode_mean as encode_mean
from .model import factor_metrics as factor_metrics
from .observational import disentanglement as disentanglement
