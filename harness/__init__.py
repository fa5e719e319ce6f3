"""sv39lab benchmark harness: builds every kernel variant, boots the benchmarks in QEMU,
collects a tidy table of measurements and regenerates the design document's comparison table.

Run it as ``/usr/bin/python3 -m harness <command>`` (see ``docs/harness.md``).
"""

__all__ = ["__version__"]
__version__ = "1.0"
