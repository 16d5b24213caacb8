"""Daily cost anomalies per sub account and service: a robust z-score against a trailing baseline.

For each evaluated day the baseline is the median of the trailing window (``robust_z``) or of the same weekday in
the trailing weeks (``seasonal``, once the window holds four of them: weekly patterns are not anomalies); the scale
is 1.4826 × the median absolute deviation of the window from that baseline (seasonal: of each day from its own
weekday's median, so the scale rests on the whole window), floored at 1 % of the baseline so a flat series still
has a scale. A day is an anomaly when ``|z| ≥ z_threshold`` **and** ``|cost − baseline| ≥ min_abs_change``: pennies
never alert. Days are evaluated only when the account has data for at least ``MIN_HISTORY_DAYS`` before them (a
first load is not a spike).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from statistics import median

from app.core.warehouse import Warehouse
from app.ingest.tables import FOCUS_TABLE
from app.workflows.tables import ANOMALIES_TABLE
from app.workflows.types import AnomalySettings

MAD_SCALE = 1.4826
MIN_HISTORY_DAYS = 7
MIN_SEASONAL_POINTS = 4
SCALE_FLOOR = 0.01
USAGE_BETWEEN = ("ChargePeriodStart >= toDateTime({start:Date}) AND ChargePeriodStart < toDateTime({end:Date}) + "
                 "INTERVAL 1 DAY AND ChargeCategory = 'Usage'")
"""Usage charges of the days from ``start`` to ``end`` (inclusive)."""
SeriesKey = tuple[str, str, str, str]
"""(billing account, sub account, service, currency)."""


@dataclass(frozen=True)
class Finding:
    day: date
    cost: float
    baseline: float
    z_score: float
    method: str

    @property
    def change(self) -> float:
        return self.cost - self.baseline


def detect(series: dict[date, float], days: list[date], covered_from: date, s: AnomalySettings) -> list[Finding]:
    """Anomalous days among ``days`` of one daily series (missing days cost 0 from ``covered_from`` on)."""
    out = []
    for day in days:
        if (day - covered_from).days < MIN_HISTORY_DAYS:
            continue
        start = max(covered_from, day - timedelta(days=s.window_days))
        window = [start + timedelta(days=i) for i in range((day - start).days)]
        finding = _score(day, series.get(day, 0.0), window, series, s)
        if finding:
            out.append(finding)
    return out


def _score(day: date, cost: float, window: list[date], series: dict[date, float], s: AnomalySettings
           ) -> Finding | None:
    same_weekday = [d for d in window if d.weekday() == day.weekday()]
    seasonal = s.method == "seasonal" or (s.method == "auto" and len(same_weekday) >= MIN_SEASONAL_POINTS)
    if not window or (seasonal and not same_weekday):
        return None
    if seasonal:
        base = _weekday_median(day, window, series)
        residuals = [series.get(d, 0.0) - _weekday_median(d, window, series) for d in window]
    else:
        base = median(series.get(d, 0.0) for d in window)
        residuals = [series.get(d, 0.0) - base for d in window]
    scale = max(MAD_SCALE * median(abs(r) for r in residuals), SCALE_FLOOR * abs(base), 1e-9)
    z = (cost - base) / scale
    if abs(z) >= s.z_threshold and abs(cost - base) >= s.min_abs_change:
        return Finding(day, cost, base, z, "seasonal" if seasonal else "robust_z")
    return None


def _weekday_median(day: date, window: list[date], series: dict[date, float]) -> float:
    return median(series.get(d, 0.0) for d in window if d.weekday() == day.weekday())


def daily_series(wh: Warehouse, start: date, end: date) -> tuple[dict[SeriesKey, dict[date, float]],
                                                                 dict[str, date], dict[str, str]]:
    """Usage EffectiveCost per day and series from ``start`` to ``end`` (inclusive); also the first day each
    billing account has data in that range, and sub account names (``sub_account_names``)."""
    params = {"start": start.isoformat(), "end": end.isoformat()}
    rows = wh.rows(
        f"SELECT toString(toDate(ChargePeriodStart)) AS d, BillingAccountId AS a, ifNull(SubAccountId, '') AS s, "
        "ifNull(ServiceName, '') AS v, BillingCurrency AS c, "
        f"toString(sum(EffectiveCost)) AS cost FROM {wh.database}.{FOCUS_TABLE} WHERE {USAGE_BETWEEN} "
        "GROUP BY d, a, s, v, c", params)
    series: dict[SeriesKey, dict[date, float]] = defaultdict(dict)
    first: dict[str, date] = {}
    for r in rows:
        day = date.fromisoformat(r["d"])
        series[(r["a"], r["s"], r["v"], r["c"])][day] = float(Decimal(r["cost"]))
        first[r["a"]] = min(first.get(r["a"], day), day)
    return series, first, sub_account_names(wh, params)


def sub_account_names(wh: Warehouse, params: dict[str, str]) -> dict[str, str]:
    """Each sub account's latest name in the range (a renamed subscription shows its new name; of two names on its
    latest charge, the greater), whatever order the rows are read in."""
    rows = wh.rows(f"SELECT ifNull(SubAccountId, '') AS s, argMax(SubAccountName, (ChargePeriodStart, "
                   f"SubAccountName)) AS sn FROM {wh.database}.{FOCUS_TABLE} WHERE {USAGE_BETWEEN} "
                   "AND SubAccountName IS NOT NULL GROUP BY s", params)
    return {r["s"]: r["sn"] for r in rows}


def detect_in_warehouse(wh: Warehouse, days: list[date], s: AnomalySettings, run_id: str, detected_at: str,
                        ) -> list[dict]:
    """Evaluate ``days`` for every series; replace the anomalies recorded for those days; return the rows."""
    if not days:
        return []
    first_day, last_day = min(days), max(days)
    series, covered, names = daily_series(wh, first_day - timedelta(days=s.window_days), last_day)
    rows = []
    for (account, sub, service, currency), points in sorted(series.items()):
        for f in detect(points, days, covered[account], s):
            rows.append({"day": f.day.isoformat(), "billing_account_id": account, "sub_account_id": sub,
                         "sub_account_name": names.get(sub, ""), "service_name": service, "currency": currency,
                         "cost": f"{f.cost:.6f}", "baseline": f"{f.baseline:.6f}", "change": f"{f.change:.6f}",
                         "z_score": round(f.z_score, 4), "method": f.method,
                         "direction": "up" if f.change > 0 else "down", "window_days": s.window_days,
                         "run_id": run_id, "detected_at": detected_at})
    wh.command(f"DELETE FROM {wh.database}.{ANOMALIES_TABLE} WHERE day BETWEEN {{a:Date}} AND {{b:Date}}",
               {"a": first_day.isoformat(), "b": last_day.isoformat()})
    from app.workflows.store import insert

    insert(wh, ANOMALIES_TABLE, rows)
    return rows
