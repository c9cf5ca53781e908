import pytest
import torch


@pytest.fixture(autouse=True)
def _isolate_torch_globals():
    """Training sets process-wide state (flush-denormal, threads); keep tests independent."""
    threads = torch.get_num_threads()
    yield
    torch.set_flush_denormal(False)
    torch.set_num_threads(threads)
