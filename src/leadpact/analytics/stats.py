"""Distributions (count, mean, median, p90) that every engine computes identically.

Engines disagree on percentiles (SQLite has none; others interpolate, approximate, or pick a
neighbour), so the median and the 90th percentile are defined here once, as the *nearest-rank*
(discrete) percentile: the value at rank ceil(p * n) in ascending order (rank 1 is the
smallest). The median of 1, 2, 3, 4 is therefore 2, and the p90 of ten values is the ninth.
Ranks come from ``row_number()``, which every engine has; ceil(p * n) is integer arithmetic:
ceil(n / 2) = (n + 1) // 2 and ceil(9n / 10) = (9n + 9) // 10.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

__all__ = ["distribution"]


def distribution(
    table: ir.Table, by: Sequence[str], value: str, *, constant: Sequence[str] = ()
) -> ir.Table:
    """Per group of `by`: ``n``, ``mean``, ``median``, ``p90`` and ``total`` of `value`.

    Rows whose `value` is NULL are left out. `median` and `p90` are values of the column
    (nearest rank); `mean` is a float. Columns of `by` named in `constant` hold one value on
    every row of `table`: the ranking leaves them out (engines sort on text keys several
    times slower than on the value alone).
    """
    rows = table.filter(table[value].notnull())
    group = list(by)
    varying = [c for c in group if c not in constant]
    ranked = rows.mutate(
        _rank=ibis.row_number().over(group_by=varying, order_by=rows[value]) + 1,
        _n=rows[value].count().over(group_by=varying),
    )
    v = ranked[value]
    return ranked.group_by(group).aggregate(
        n=v.count(),
        mean=v.cast("float64").mean(),
        median=v.max(where=ranked._rank == (ranked._n + 1) // 2),
        p90=v.max(where=ranked._rank == (9 * ranked._n + 9) // 10),
        total=v.cast("float64").sum(),
    )
