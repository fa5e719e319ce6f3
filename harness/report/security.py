"""The security row under a stated threat model (issue 15 item 4).

Threats (what the attacker, a user process, wants and holds):
  a  its *own* kernel VA (local exploitation: e.g. a kernel write primitive needs an address)
  b  the kernel VA of its own process, holding a kernel pointer leaked from *another* process
  c  its own kernel VA, with a TLB/prefetch-style probe (the `kernel_probe` result under the
     TLB model: does a kernel translation stay in the TLB where a U-mode load can reach it?)

Score (higher is better): the bits of the kernel VA the attacker still does not know; ∞ when
the kernel is not mapped in user page tables at all (scheme 1: nothing to find or probe).
  a: the entropy of the kernel slot across processes (0 when every process sees one VA)
  b: a: only when another process's slot tells nothing about one's own (slots differ per
     process and the probe of the other process's VA misses); 0 when every process shares it
  c: a when the own-slot probe misses in every trial; 0 when it hits (a hit confirms a guess, so
     the slot is found by scanning the slots: per-process randomisation does NOT defend
     against an attacker probing its own process)

Entropy estimators, over the slots `kaslr_probe` observed:
- independent draws (`kaslr_probe N seq`, facts kaslr.draws == "seq"): the collision (Rényi
  order 2) entropy H2 = log2(pairs / colliding pairs), with an exact 95 % Poisson interval on
  the number of colliding pairs. H2 ≤ Shannon entropy, and it reaches the 17 bits of a uniform
  draw over 130,302 slots from 4,096 samples (about 64 colliding pairs), where a plug-in
  estimate cannot exceed log2 n = 12;
- otherwise (the chain of live processes, whose windows never overlap, so no collisions): the
  plug-in Shannon entropy with the Miller–Madow correction, a lower bound (≤ log2 n + ~0.7).
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import pandas as pd

THREATS: Dict[str, str] = {"a": "own kernel VA", "b": "pointer leaked from another process",
                           "c": "TLB probe of own process"}
MIN_SLOTS = 4096    # samples an entropy estimate needs before it is more than a lower bound
MIN_TRIALS = 100    # probe trials a rate needs
S2_KASLR = "s2-kaslr"   # scheme 2 with per-boot KASLR (one slot for all processes, per boot)


def miller_madow_bits(samples: Sequence[Any]) -> Optional[float]:
    """Plug-in Shannon entropy (bits) plus the Miller–Madow correction (K − 1) / (2 n ln 2)."""
    n = len(samples)
    if n == 0:
        return None
    counts = Counter(samples)
    h = -sum(c / n * math.log2(c / n) for c in counts.values())
    return h + (len(counts) - 1) / (2 * n * math.log(2))


def collision_bits(samples: Sequence[Any]) -> Optional[Tuple[float, float, float]]:
    """(H2 estimate, 95 % low, 95 % high) in bits from the colliding pairs of independent
    draws; with no collision the estimate is the low bound (the interval's upper end is ∞)."""
    from scipy.stats import chi2
    n = len(samples)
    if n < 2:
        return None
    pairs = n * (n - 1) / 2
    c = sum(k * (k - 1) // 2 for k in Counter(samples).values())
    c_hi = chi2.ppf(0.975, 2 * c + 2) / 2
    c_lo = chi2.ppf(0.025, 2 * c) / 2 if c > 0 else 0.0
    low = math.log2(pairs / c_hi)
    high = math.log2(pairs / c_lo) if c_lo > 0 else math.inf
    return (math.log2(pairs / c) if c > 0 else low), low, high


def variant_name(scheme: int, asid: bool, kmap: str) -> str:
    return f"s{scheme}-{'asid' if asid else 'noasid'}" + ("-4k" if kmap == "4K" else "")


def independent(vf: Mapping[str, Any]) -> bool:
    return (vf.get("kaslr") or {}).get("draws") == "seq"


def slot_entropy(vf: Mapping[str, Any]) -> Tuple[Optional[float], int]:
    """(bits, samples): the collision estimate for independent draws, else Miller–Madow."""
    k = vf.get("kaslr") or {}
    slots = list(k.get("slots") or [])
    if not slots:
        return None, 0
    if independent(vf):
        est = collision_bits(slots)
        return (est[0] if est else None), len(slots)
    return miller_madow_bits(slots), len(slots)


def estimator_text(vf: Mapping[str, Any]) -> str:
    h, n = slot_entropy(vf)
    if h is None:
        return "–"
    k = vf.get("kaslr") or {}
    if independent(vf):
        est = collision_bits(list(k.get("slots") or []))
        assert est is not None
        hi = "∞" if math.isinf(est[2]) else f"{est[2]:.1f}"
        lo = max(est[1], 0.0) + 0.0  # entropy is never below 0 (and never printed as -0.0)
        return f"{h:.2f} bits (collision, 95 % {lo:.1f}–{hi}, n={n})"
    return (f"{h:.2f} bits (Miller–Madow, n={n}" +
            (": a lower bound)" if n < MIN_SLOTS else ")"))


def probe_rate(vf: Mapping[str, Any], preset: Optional[str], side: str
               ) -> Optional[Tuple[int, int]]:
    """(hits, trials) of the own-slot ("own") or other-process ("other") probe."""
    pr = (vf.get("tlb_probe") or {}).get(preset) if preset else None
    if not pr:
        return None
    if side == "own":
        h, n = pr.get("own_slot_hits_on_kernel_entries"), pr.get("own_slot_probes")
    else:
        h, n = pr.get("other_process_hits_on_kernel_entries"), pr.get("other_process_probes")
    if h is None or n is None or int(n) <= 0:
        return None
    return min(int(h), int(n)), int(n)


def score(vf: Mapping[str, Any], threat: str, preset: Optional[str],
          per_boot: bool = False) -> Optional[float]:
    """per_boot: the variant draws one slot per boot for every process (s2-kaslr); one boot's
    processes then show one slot, so threat (a) takes the kernel-reported per-boot entropy (a
    design figure: measuring it needs many boots) and threat (b) the measured 0 bits."""
    mapped = vf.get("kernel_mapped_in_user")
    if mapped is None:
        return None
    if mapped is False:
        return math.inf
    h, n = slot_entropy(vf)
    if h is None:
        return None
    if threat == "a":
        if per_boot:
            bits = (vf.get("kaslr") or {}).get("kernel_entropy_bits")
            return None if bits is None else float(bits)
        return h
    if threat == "b":
        other = probe_rate(vf, preset, "other")
        if other is None:
            return None
        return h if other[0] == 0 else 0.0
    own = probe_rate(vf, preset, "own")
    if own is None:
        return None
    return h if own[0] == 0 else 0.0


def threat_scores(df: pd.DataFrame, facts: Mapping[str, Any], threat: str, *, asid: bool,
                  kmap: str, preset: Optional[str],
                  s2_kaslr: bool = False) -> Optional[Dict[int, float]]:
    """Scores per scheme; s2_kaslr: scheme 2 is the per-boot KASLR variant (S2_KASLR)."""
    out = {}
    for k in (1, 2, 3):
        name = S2_KASLR if (k == 2 and s2_kaslr) else variant_name(k, asid, kmap)
        vf = facts.get("variants", {}).get(name)
        if vf is None:
            return None
        s = score(vf, threat, preset, per_boot=(k == 2 and s2_kaslr))
        if s is None:
            return None
        out[k] = s
    return out


def fmt_bits(x: float) -> str:
    return "not mapped" if math.isinf(x) else f"{x:.1f} bits"


def detail(facts: Mapping[str, Any], preset: Optional[str]) -> List[str]:
    """The security section: threat model, estimator, per-variant figures, what is not
    defended, and whether scheme 2 with per-boot KASLR was measured."""
    out = ["## Security under a threat model", "",
           "Threats: (a) an attacker process wants *its own* kernel VA; (b) it holds a kernel "
           "pointer leaked from *another* process; (c) it probes its own process with a "
           "TLB/prefetch-style probe (`kernel_probe` under the TLB model). Score: the bits of "
           "its kernel VA it still does not know (*not mapped*: the kernel is absent from user "
           "page tables). Entropy over the slots `kaslr_probe` observed: from independent "
           "draws the collision (Rényi-2) entropy with a 95 % Poisson interval on the colliding "
           "pairs; from the chain of live processes (no collisions possible) the plug-in "
           "Shannon estimate with the Miller–Madow correction, a lower bound.", "",
           "| variant | kernel in user tables | slots observed (distinct) | entropy (estimator) | "
           f"own-slot probe ({preset}) | other-process probe | a | b | c |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    names = [n for n in facts.get("variants", {})
             if n.split("-")[0] in ("s1", "s2", "s3") and not n.endswith("-dc")]
    for v in names:
        vf = facts["variants"][v]
        if not vf.get("built"):
            continue
        k = vf.get("kaslr") or {}
        slots = list(k.get("slots") or [])
        ent = estimator_text(vf)
        rates = []
        for side in ("own", "other"):
            r = probe_rate(vf, preset, side)
            rates.append("–" if r is None else
                         f"{r[0]}/{r[1]} hit" + (f" (n < {MIN_TRIALS})" if r[1] < MIN_TRIALS
                                                 else ""))
        sc = [score(vf, t, preset, per_boot=(v == S2_KASLR)) for t in THREATS]
        out.append("| " + " | ".join(
            [v, "no" if vf.get("kernel_mapped_in_user") is False else "yes",
             f"{len(slots)} ({len(set(slots))})" if slots else "–", ent, *rates,
             *["–" if s is None else fmt_bits(s) for s in sc]]) + " |")
    out.append("")
    out.append("Not defended by per-process randomisation (scheme 3): an attacker probing its "
               "*own* process — the own-slot probe finds its kernel translation, so the slot is "
               "found by scanning; it defends only against reusing a VA learnt in another "
               "process (threat b).")
    if S2_KASLR in facts.get("variants", {}):
        out.append(f"Scheme 2 with per-boot KASLR (`{S2_KASLR}`) is in the table above: one "
                   "slot per boot for every process, so a pointer leaked from any process "
                   "(threat b) gives it away.")
    else:
        out.append(f"Scheme 2 with per-boot KASLR (`{S2_KASLR}`, what Linux ships): not "
                   "measured in this run.")
    out.append("")
    return out
