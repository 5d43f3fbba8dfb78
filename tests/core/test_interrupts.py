import os
import signal

import pytest

from bharnet.core.interrupts import ctrl_c_deferred


def test_a_press_inside_the_block_is_delivered_when_it_ends():
    reached_the_end = False
    with pytest.raises(KeyboardInterrupt), ctrl_c_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        sum(range(1000))  # bytecodes on which Python would have run the handler
        reached_the_end = True
    assert reached_the_end
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_without_a_press_nothing_happens_and_an_ignored_press_stays_ignored():
    with ctrl_c_deferred():
        pass
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with ctrl_c_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            sum(range(1000))
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_press_while_an_array_is_saved_comes_after_the_whole_file(tmp_path, monkeypatch):
    # numpy's tofile turns a press that lands inside it into a TypeError; a stand-in np.save
    # presses Ctrl-C first and writes after, so the file is whole only if the press waits
    import numpy as np

    from bharnet.core.interrupts import save_npy

    real_save = np.save

    def pressed_while_saving(path, array):
        os.kill(os.getpid(), signal.SIGINT)
        sum(range(1000))
        real_save(path, array)

    monkeypatch.setattr(np, "save", pressed_while_saving)
    with pytest.raises(KeyboardInterrupt):
        save_npy(tmp_path / "a.npy", np.arange(5))
    monkeypatch.undo()
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), np.arange(5))
