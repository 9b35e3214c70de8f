"""Digits of pi: two independent methods agree, known digits, the lecture's layout, the cache."""

import pytest

from testbed import digits
from testbed.errors import TestbedError


def test_chudnovsky_equals_mpfr():
    assert digits.chudnovsky(30_000) == digits.mpfr_digits(30_000)


def test_known_digits():
    d = digits.chudnovsky(1000)
    assert d.startswith("14159265358979323846264338327950288419716939937510")
    assert d[761:767] == "999999"  # decimals 762..767
    assert len(d) == 1000


def test_verify_catches_a_wrong_digit():
    d = digits.chudnovsky(5000)
    bad = d[:3000] + ("0" if d[3000] != "0" else "1") + d[3001:]
    with pytest.raises(TestbedError, match="decimal 3,001"):
        digits.verify(bad, 5000)
    assert digits.verify(d, 5000)["mpfr_prefix"] == 5000


def test_layout_is_digits_spaces_newlines():
    text = digits.layout("0123456789" * 25)
    lines = text.splitlines()
    assert lines[0] == " ".join(["0123456789"] * 10)
    assert len(lines) == 3 and lines[2] == "0123456789 " * 4 + "0123456789"
    assert set(text) <= set("0123456789 \n")


def test_ensure_writes_then_reuses(tmp_path, monkeypatch):
    logs = []
    first = digits.ensure(3, 2000, tmp_path, log=logs.append, check_prefix=6000)
    assert [f.name for f in first.files] == [f"pi1000m.ascii.0{k}of100" for k in (1, 2, 3)]
    joined = "".join(f.read_text().replace(" ", "").replace("\n", "") for f in first.files)
    assert joined == digits.mpfr_digits(6000)
    # a second call must not compute again
    monkeypatch.setattr(digits, "chudnovsky", lambda *a, **k: pytest.fail("recomputed a cached set"))
    again = digits.ensure(3, 2000, tmp_path, log=logs.append)
    assert again.files == first.files
    assert any("cached" in m for m in logs)


def test_ensure_recomputes_a_damaged_file(tmp_path):
    first = digits.ensure(2, 1500, tmp_path, log=lambda m: None)
    path = first.files[1]
    text = path.read_text()
    path.write_text(("1" if text[0] != "1" else "2") + text[1:])  # same size, one digit changed
    logs = []
    again = digits.ensure(2, 1500, tmp_path, log=logs.append)
    assert any("computing" in m for m in logs)
    assert again.files[1].read_text() == text
