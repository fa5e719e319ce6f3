"""The kernel variants, as data: a variant is a name, a scheme defconfig (configs/*_defconfig)
and Kconfig settings applied on top of it (`OPT=VAL`, the form of `make setconfig SET=...`).

The variants every run measures by default are declared in configs/variants.toml:

    [s1-noasid]
    defconfig = "scheme1_defconfig"
    set = ["ASID=n"]

and any other one can be given on the command line as `NAME:DEFCONFIG+OPT=VAL+...`
(`--variant s2-hz1000:scheme2_defconfig+TIMER_HZ=1000`).

Everything the data needs to tell variants apart comes from the *resolved* configuration
(Kconfiglib on the repository's Kconfig, the defconfig, then the settings): the scheme, ASIDs,
the kernel window's page size, the paging choice, and `config_string`, the canonical
``OPT=VAL,...`` list of every option whose value differs from the defconfig's (the CSV's
`config` column). Two variants with different configurations therefore never share a row
label, and the build directory is keyed by the hash of the resolved .config (harness/build.py).
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Tuple

from .errors import UserError

PAGING_EAGER = "eager-copy"
PAGING_DEMAND_COW = "demand-cow"
PAGINGS = (PAGING_EAGER, PAGING_DEMAND_COW)

REPO_DEFAULT = Path(__file__).resolve().parent.parent
VARIANTS_FILE = Path("configs") / "variants.toml"
MAX_HARTS = 8  # Kconfig NR_HARTS: 1..8
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=+-]*$")  # + and =: a sweep's derived names
SETTING_RE = re.compile(r"^([A-Z0-9_]+)=(.*)$")


def paging_of(variant: str) -> str:
    """The paging choice of a variant name (`-dc`: demand-cow): only for tables written before
    the `paging` column existed."""
    return PAGING_DEMAND_COW if variant.endswith("-dc") else PAGING_EAGER


SCHEME_NAMES = {
    1: "separate kernel table",
    2: "shared table, same kernel VA",
    3: "shared table, per-process kernel VA",
}


# ------------------------------------------------------------------ resolving a configuration

@dataclass(frozen=True)
class Resolved:
    values: Mapping[str, str]   # every written symbol: name -> value ('n' for an unset bool)
    text: str                   # the .config Kconfiglib writes (without its header line)
    diff: Tuple[str, ...]       # canonical OPT=VAL of the options that differ from the defconfig

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


_CACHE: Dict[Tuple[str, str, Tuple[str, ...]], Resolved] = {}
_LOCK = threading.Lock()


def _kconfig(root: Path):  # -> kconfiglib.Kconfig
    try:
        import kconfiglib
    except ImportError:
        raise UserError("kconfiglib is not installed (Debian: python3-kconfiglib; run the "
                        "harness with /usr/bin/python3)") from None
    kfile = root / "Kconfig"
    if not kfile.is_file():
        raise UserError(f"{kfile}: no Kconfig (not an sv39lab tree)")
    old = os.environ.get("srctree")
    os.environ["srctree"] = str(root)
    try:
        return kconfiglib.Kconfig(str(kfile), warn=False)
    finally:
        if old is None:
            os.environ.pop("srctree", None)
        else:
            os.environ["srctree"] = old


def _values(kconf) -> Dict[str, str]:
    return {s.name: s.str_value for s in kconf.unique_defined_syms if s.config_string}


def _text(kconf) -> str:
    with tempfile.TemporaryDirectory() as d:
        kconf.write_config(os.path.join(d, "c"), header="")
        return Path(d, "c").read_text()


def resolve(root: Path, defconfig: str, settings: Tuple[str, ...], where: str = "") -> Resolved:
    """The configuration of a defconfig plus settings; a setting Kconfig does not accept (an
    unknown option, a value out of range, an option without a prompt such as SCHEME) is a
    UserError naming it."""
    key = (str(root), defconfig, tuple(settings))
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    label = where or f"{defconfig}{''.join('+' + s for s in settings)}"
    dfile = root / "configs" / defconfig
    if not dfile.is_file():
        known = sorted(p.name for p in (root / "configs").glob("*_defconfig"))
        raise UserError(f"{label}: no defconfig {defconfig} (known: {', '.join(known)})")
    kconf = _kconfig(root)
    kconf.load_config(str(dfile))
    base = _values(kconf)
    for s in settings:
        m = SETTING_RE.match(s)
        if not m:
            raise UserError(f"{label}: {s!r} is not an OPT=VAL Kconfig setting")
        name, val = m.groups()
        name = name.removeprefix("CONFIG_")
        sym = kconf.syms.get(name)
        if sym is None or not sym.nodes:
            raise UserError(f"{label}: {name} is not a Kconfig option")
        if not any(n.prompt for n in sym.nodes):
            raise UserError(f"{label}: {name} cannot be set (it has no prompt: it follows other "
                            f"options; the scheme, for example, is chosen by the defconfig)")
        sym.set_value(val)
        if sym.str_value != val:
            raise UserError(f"{label}: {name}={val} not accepted by Kconfig (it resolves to "
                            f"{sym.str_value!r}; see `make menuconfig` for its range and "
                            f"dependencies)")
    values = _values(kconf)
    diff = []
    for name in sorted(set(base) | set(values)):
        a, b = base.get(name, "n"), values.get(name, "n")
        if a == b:
            continue
        sym = kconf.syms[name]
        if b == "n" and sym.choice is not None:
            continue  # the choice's other member, now y, says it
        diff.append(f"{name}={b}")
    res = Resolved(values=values, text=_text(kconf), diff=tuple(diff))
    with _LOCK:
        _CACHE[key] = res
    return res


# ------------------------------------------------------------------ a variant

@dataclass(frozen=True)
class Variant:
    name: str
    defconfig: str = "scheme2_defconfig"
    settings: Tuple[str, ...] = ()   # OPT=VAL, applied in order after the defconfig
    harts: int = 1                   # QEMU -smp N (not a build setting: the same kernel image)
    root: Path = field(default=REPO_DEFAULT, compare=False, hash=False, repr=False)
    # variants.toml `benches = [...]`: the variant runs only these (of those it would run; empty:
    # no restriction), to keep `make reproduce` short where more runs add little
    benches: Tuple[str, ...] = ()

    @property
    def resolved(self) -> Resolved:
        return resolve(self.root, self.defconfig, self.settings, where=f"variant {self.name}")

    def _on(self, opt: str) -> bool:
        return self.resolved.values.get(opt, "n") == "y"

    @property
    def scheme(self) -> int:
        return int(self.resolved.values["SCHEME"])

    @property
    def asid(self) -> bool:
        return self._on("ASID")

    @property
    def kernel_4k(self) -> bool:
        return self._on("KERNEL_MAP_4K")

    @property
    def demand_cow(self) -> bool:
        """Demand paging or copy-on-write fork: the variant runs only the benchmarks where the
        paging choice matters (benchspec.runs_in)."""
        return self._on("MEMORY_DEMAND") or self._on("FORK_COW")

    @property
    def paging(self) -> str:
        """The tidy CSV's `paging` value: eager-copy, demand-cow (or eager-cow, demand-copy)."""
        return (f"{'demand' if self._on('MEMORY_DEMAND') else 'eager'}-"
                f"{'cow' if self._on('FORK_COW') else 'copy'}")

    @property
    def config_string(self) -> str:
        """The CSV's `config` column: sorted OPT=VAL of every option that differs from the
        defconfig ('' for the defconfig itself)."""
        return ",".join(self.resolved.diff)

    @property
    def config_hash(self) -> str:
        return self.resolved.sha[:12]

    @property
    def setconfig(self) -> List[str]:
        """The settings, as `make setconfig SET=...` takes them."""
        return list(self.settings)

    @property
    def spec(self) -> str:
        """NAME:DEFCONFIG+OPT=VAL+..., the command-line form of this variant."""
        harts = f"+harts={self.harts}" if self.harts != 1 else ""
        return f"{self.name}:{self.defconfig}" + "".join("+" + s for s in self.settings) + harts

    def __str__(self) -> str:
        return self.name


def parse_spec(text: str, root: Path = REPO_DEFAULT, where: str = "--variant") -> Variant:
    """NAME:DEFCONFIG[+OPT=VAL...] (DEFCONFIG may omit `_defconfig`: scheme2), checked against
    Kconfig."""
    name, sep, rest = text.partition(":")
    if not sep or not rest:
        raise UserError(f"{where} {text!r}: a variant is NAME:DEFCONFIG[+OPT=VAL...], e.g. "
                        f"s2-hz1000:scheme2_defconfig+TIMER_HZ=1000")
    parts = rest.split("+")
    defconfig = parts[0] if parts[0].endswith("_defconfig") else parts[0] + "_defconfig"
    # `harts=N` (lower case: not a Kconfig option) is the run's hart count
    harts = [p for p in parts[1:] if p.strip().startswith("harts=")]
    settings = [p for p in parts[1:] if p not in harts]
    n = parse_harts(harts[-1].strip().removeprefix("harts="), f"{where} {text!r}") if harts else 1
    return _make(name, defconfig, settings, root, f"{where} {text!r}", harts=n)


def parse_harts(value: object, where: str) -> int:
    """A hart count: an integer 1..MAX_HARTS (Kconfig NR_HARTS' range)."""
    try:
        n = int(value) if not isinstance(value, bool) else 0  # type: ignore[arg-type]
    except (TypeError, ValueError):
        n = 0
    if not 1 <= n <= MAX_HARTS or str(value).strip() != str(n):
        raise UserError(f"{where}: harts must be an integer 1..{MAX_HARTS}, not {value!r}")
    return n


def _make(name: str, defconfig: str, settings: Iterable[str], root: Path, where: str,
          harts: int = 1, benches: Tuple[str, ...] = ()) -> Variant:
    if not NAME_RE.match(name):
        raise UserError(f"{where}: {name!r} is not a variant name (letters, digits, - _ . + =)")
    settings = tuple(s.strip().removeprefix("CONFIG_") for s in settings if s.strip())
    v = Variant(name, defconfig, settings, harts, root, benches)
    resolve(root, defconfig, settings, where=where)  # check it now, with the place to blame
    return v


def load_variants(root: Path = REPO_DEFAULT) -> List[Variant]:
    """configs/variants.toml: the default variants, in the file's order."""
    path = root / VARIANTS_FILE
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML ({exc})") from None
    out = []
    for name, table in data.items():
        where = f"{path}: [{name}]"
        if not isinstance(table, dict) or "defconfig" not in table:
            raise UserError(f"{where}: needs defconfig = \"schemeN_defconfig\"")
        unknown = set(table) - {"defconfig", "set", "description", "harts", "benches"}
        if unknown:
            raise UserError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        settings = table.get("set", [])
        if not isinstance(settings, list) or not all(isinstance(s, str) for s in settings):
            raise UserError(f"{where}: set must be a list of \"OPT=VAL\" strings")
        harts = table.get("harts", 1)
        if not isinstance(harts, int):  # TOML: a number, not "4"
            raise UserError(f"{where}: harts must be an integer 1..{MAX_HARTS}, not {harts!r}")
        harts = parse_harts(harts, where)
        benches = _bench_list(table.get("benches", []), where)
        out.append(_make(name, str(table["defconfig"]), settings, root, where, harts=harts,
                         benches=benches))
    return out


def _bench_list(value: object, where: str) -> Tuple[str, ...]:
    """A variant's `benches`: names of benchmarks declared under user/bench."""
    if not isinstance(value, list) or not all(isinstance(b, str) for b in value):
        raise UserError(f"{where}: benches must be a list of benchmark names")
    # the benchmarks every run chooses from (benchspec.BENCHES, declared in this checkout)
    from .benchspec import BENCH_BY_NAME
    known = set(BENCH_BY_NAME)
    unknown = [b for b in value if b not in known]
    if unknown:
        raise UserError(f"{where}: unknown benchmark(s) {', '.join(unknown)} in benches")
    return tuple(value)


_DEFAULTS: Dict[str, List[Variant]] = {}


def default_variants(root: Path = REPO_DEFAULT) -> List[Variant]:
    key = str(root)
    if key not in _DEFAULTS:
        _DEFAULTS[key] = load_variants(root)
    return _DEFAULTS[key]


def variant_names(root: Path = REPO_DEFAULT) -> List[str]:
    return [v.name for v in default_variants(root)]


def variant_by_name(name: str, root: Path = REPO_DEFAULT,
                    extra: Iterable[Variant] = ()) -> Variant:
    """A declared variant, or (NAME:DEFCONFIG+...) one given in full."""
    if ":" in name:
        return parse_spec(name, root)
    for v in list(extra) + default_variants(root):
        if v.name == name:
            return v
    raise UserError(f"unknown variant {name!r}; known: {', '.join(variant_names(root))} (or give "
                    f"one in full: NAME:DEFCONFIG+OPT=VAL)")


def with_settings(base: Variant, settings: Iterable[str]) -> Variant:
    """`base` with more settings; named base+OPT=VAL+... (a sweep's config dimension)."""
    settings = tuple(settings)
    if not settings:
        return base
    return _make(base.name + "".join("+" + s for s in settings), base.defconfig,
                 base.settings + settings, base.root, f"variant {base.name}", harts=base.harts,
                 benches=base.benches)


def with_harts(base: Variant, harts: int) -> Variant:
    """`base` run on `harts` harts; named base+harts=N unless that is already its count (a
    sweep's harts dimension)."""
    if harts == base.harts:
        return base
    return _make(f"{base.name}+harts={harts}", base.defconfig, base.settings, base.root,
                 f"variant {base.name}", harts=parse_harts(harts, f"variant {base.name}"),
                 benches=base.benches)


def select_variants(names: Iterable[str] | None, root: Path = REPO_DEFAULT,
                    specs: Iterable[str] = ()) -> List[Variant]:
    """-V NAME... (declared or NAME:DEFCONFIG+...) plus --variant specs; neither: all declared."""
    extra = [parse_spec(s, root) for s in specs]
    chosen = [variant_by_name(n, root, extra) for n in (names or [])]
    if not names and not extra:
        return list(default_variants(root))
    out: List[Variant] = []
    for v in chosen + extra:
        if v.name in (o.name for o in out):
            if v != next(o for o in out if o.name == v.name):
                raise UserError(f"two different variants are named {v.name}")
            continue
        out.append(v)
    return out


def __getattr__(name: str):  # the module's old constants, read from configs/variants.toml
    if name == "ALL_VARIANTS":
        return default_variants()
    if name == "VARIANT_NAMES":
        return variant_names()
    raise AttributeError(name)


def ordered_names(present: Iterable[str], root: Path = REPO_DEFAULT) -> List[str]:
    """The variant names in `present` in report order: the declared ones in
    configs/variants.toml's order, then any other (a --variant or a sweep's) sorted by name."""
    present = list(dict.fromkeys(str(p) for p in present))
    declared = variant_names(root)
    return [v for v in declared if v in present] + sorted(v for v in present
                                                          if v not in declared)
