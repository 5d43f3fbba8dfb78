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
