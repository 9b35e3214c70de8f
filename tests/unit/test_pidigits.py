"""The lecture's generator-based frequency code and the vectorised one count the same pairs."""

import numpy as np
import pytest

from testbed import digits

pidigits = digits.pidigits()


@pytest.fixture(scope="module")
def pi_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("pi") / "pi.txt"
    path.write_text(digits.layout(digits.chudnovsky(20_000)))
    return path


def test_identical_counts_on_pi(pi_file):
    lecture = pidigits.compute_two_digit_freqs(str(pi_file))
    vectorised = pidigits.compute_two_digit_freqs_np(str(pi_file))
    assert lecture.tolist() == vectorised.tolist()
    # overlapping pairs of 20,000 digits, the last one dropped
    assert int(lecture.sum()) == 20_000 - 2


@pytest.mark.parametrize("text", ["0123456789\n", "11 22\n33 4\n5", "9 9 9 9\n9\n", "123", "5 5\n"])
def test_identical_counts_on_odd_layouts(tmp_path, text):
    f = tmp_path / "d.txt"
    f.write_text(text)
    assert pidigits.compute_two_digit_freqs(str(f)).tolist() == pidigits.compute_two_digit_freqs_np(str(f)).tolist()


def test_pairs_by_hand(tmp_path):
    # digits 1 2 3 4: the lecture's loop counts 12 and 23, never the last pair 34
    f = tmp_path / "d.txt"
    f.write_text("12 3\n4\n")
    freqs = pidigits.compute_two_digit_freqs_np(str(f))
    assert {i: int(c) for i, c in enumerate(freqs) if c} == {12: 1, 23: 1}


def test_random_digits_identical(tmp_path):
    rng = np.random.default_rng(7)
    d = "".join(map(str, rng.integers(0, 10, 5003)))
    f = tmp_path / "r.txt"
    f.write_text(digits.layout(d))
    assert pidigits.compute_two_digit_freqs(str(f)).tolist() == pidigits.compute_two_digit_freqs_np(str(f)).tolist()


def test_mean_std_of_uniform_pairs():
    # every value 00..99 once: mean 49.5, std sqrt((100^2 - 1) / 12)
    mean, std = pidigits.mean_std(np.ones(100))
    assert mean == pytest.approx(49.5)
    assert std == pytest.approx(((100**2 - 1) / 12) ** 0.5)


def test_one_digit_freqs_agree():
    d = digits.chudnovsky(1000)
    lecture = pidigits.one_digit_freqs(c for c in d)
    assert lecture.tolist() == pidigits.one_digit_freqs_np([int(c) for c in d]).tolist()
    assert int(lecture.sum()) == 1000
