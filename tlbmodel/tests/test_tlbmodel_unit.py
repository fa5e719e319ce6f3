"""The model's own unit test (C++, no QEMU): replacement, associativity, superpages, ASIDs,
the G bit, every sfence.vma form and the walker."""
import subprocess


def test_model_unit(built):
    p = subprocess.run([str(built.UNIT)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "0 failed" in p.stdout
