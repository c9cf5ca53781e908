import pytest
import torch


@pytest.fixture(autouse=True)
def _isolate_torch_globals():
    """Training sets process-wide state (flush-denormal, threads, a dataset cache); keep
    tests independent."""
    threads = torch.get_num_threads()
    yield
    from vaebalance.runs import start  # its cache of the last named dataset loaded

    start._named_dataset.cache_clear()
    torch.set_flush_denormal(False)
    torch.set_num_threads(threads)
