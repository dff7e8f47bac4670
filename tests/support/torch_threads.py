"""One torch thread for a test module's tiny models: import `one_thread` into the module.

Tiny models run fastest on one thread, and on a small shared CPU two threads contending are
many times slower. The fixture is autouse and module-scoped, so importing it is enough.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Run the module's tests with torch on one thread, and restore the count after."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
