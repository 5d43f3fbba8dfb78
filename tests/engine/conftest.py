import pytest


@pytest.fixture(scope="module")
def store(make_sequence, write_store, tmp_path_factory):
    """16 samples of 3 classes, train / test halves, body and hands."""
    path = tmp_path_factory.mktemp("store") / "s"
    write_store(path, [make_sequence(i, frames=20) for i in range(16)])
    return path
