"""Lower bounds that CP-SAT's LP cannot see, computed outside the model and added as cuts.

fair_share_floor: once the tiers above fix the total T of minutes worked, the fair-share part
is Σ_p |W·m_p − w_p·T| over practices p, where m_p (the minutes p's clinicians work) is a sum of
session lengths and Σ_p m_p = T. The LP lets every m_p be fractional and so ends near 0; each
practice rounded on its own (the gcd cut in the model) ignores that the roundings must add up to
T. A dynamic programme over the practices, each m_p taken from the sums its sessions' lengths
can make, gives the exact minimum of this relaxation (it drops every rule but the lengths and
the total), so it is a valid floor; on a small network it is often the optimum itself, and the
phase is then proven as soon as CP-SAT reaches it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

# The partial sums a practice can reach are kept within this many length units of their ideal
# (both ways); a bigger window is cut down by capping the floor (see fair_share_floor).
MAX_WINDOW_UNITS = 800


def reachable_sums(lengths: Mapping[int, int], unit: int) -> np.ndarray:
    """Which multiples k·unit are sums of the lengths, each length used at most its count
    times: a bool array indexed by k (bounded knapsack by binary splitting on a bitset)."""
    bits, top = 1, 0
    for length, count in lengths.items():
        step, left, part = length // unit, count, 1
        while left > 0:
            take = min(part, left)
            bits |= bits << (step * take)
            left -= take
            part *= 2
        top += step * count
    text = bin(bits)[2:][::-1].ljust(top + 1, "0")
    return np.frombuffer(text.encode(), dtype=np.uint8) == ord("1")


def fair_share_floor(
    shares: Sequence[int], total: int, lengths: Sequence[Mapping[int, int]], cap: int
) -> int:
    """min Σ_p |W·m_p − shares[p]·total| over m_p reachable from lengths[p] (length → how many
    sessions of it practice p could work) with Σ_p m_p = total, where W = Σ shares; or `cap`
    if that minimum is above `cap` (pass a known rota's value: the floor then never exceeds
    it, and the window the programme searches shrinks with it)."""
    total_weight = sum(shares)
    every = [length for per in lengths for length, count in per.items() if count > 0]
    if total_weight == 0 or not every:
        return min(cap, sum(abs(w * total) for w in shares) if total_weight else 0)
    unit = math.gcd(*every)
    if total % unit:
        return 0  # not a total the lengths can make: nothing to say
    units = total // unit
    scale = total_weight * unit  # the cost of one unit off the ideal
    # a rota within `cap` is off its ideal by at most cap / scale units in all, so no practice
    # nor partial sum strays further; past MAX_WINDOW_UNITS the floor is capped there instead
    window = cap / scale
    if window > MAX_WINDOW_UNITS:
        window, cap = MAX_WINDOW_UNITS, MAX_WINDOW_UNITS * scale
    # ideal partial sums in units, and the states (partial sums) kept around each
    ideals = [w * total / scale for w in shares]
    low, best = 0, np.zeros(1, dtype=np.int64)  # after no practice: sum 0 at cost 0
    done = 0.0
    inf = np.iinfo(np.int64).max // 4
    for w, per, ideal in zip(shares, lengths, ideals, strict=True):
        reach = reachable_sums(per, unit)
        ks = np.nonzero(reach)[0]
        ks = ks[np.abs(ks - ideal) <= window]
        done += ideal
        new_low = max(0, math.floor(done - window))
        new_high = min(units, math.ceil(done + window))
        if new_high < new_low or ks.size == 0:
            return cap
        nxt = np.full(new_high - new_low + 1, inf, dtype=np.int64)
        for k in ks.tolist():
            cost = abs(scale * k - w * total)
            if cost > cap:
                continue
            # states s (index s - low) move to s + k
            first = max(low, new_low - k)
            last = min(low + best.size - 1, new_high - k)
            if first > last:
                continue
            seg = best[first - low : last - low + 1] + cost
            out = nxt[first + k - new_low : last + k - new_low + 1]
            np.minimum(out, seg, out=out)
        low, best = new_low, nxt
    if not low <= units < low + best.size:
        return cap
    found = int(best[units - low])
    return min(cap, found)
