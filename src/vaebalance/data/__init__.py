"""In-memory datasets: images in [0, 1] (``uint8`` scaled per batch) or any finite real values.

Load one with :func:`load_dataset` by name (:func:`dataset_names`), by path, or from the
source dict a run saved (:func:`load_from_source`).
"""

from vaebalance.data.arrays import load_array_dataset
from vaebalance.data.cifar import load_cifar10, read_batch
from vaebalance.data.dataset import Dataset
from vaebalance.data.digits import load_digits_dataset
from vaebalance.data.idx import load_idx_dataset, read_idx
from vaebalance.data.images import load_image_folder
from vaebalance.data.registry import dataset_names, load_dataset, load_from_source
from vaebalance.data.split import split_indices
from vaebalance.data.standardize import Standardization
from vaebalance.data.tabular import load_csv_dataset

__all__ = [
    "Dataset",
    "dataset_names",
    "load_array_dataset",
    "load_cifar10",
    "load_csv_dataset",
    "load_dataset",
    "load_digits_dataset",
    "load_from_source",
    "load_idx_dataset",
    "load_image_folder",
    "read_batch",
    "read_idx",
    "split_indices",
    "Standardization",
]
