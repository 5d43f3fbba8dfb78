import pytest

from tests.test_store import make_sequence, write


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """16 samples of 3 classes, train / test halves, body and hands."""
    path = tmp_path_factory.mktemp("store") / "s"
    write(path, [make_sequence(i, frames=20) for i in range(16)])
    return path
