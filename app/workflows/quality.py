"""Data quality after a load: reconciliation, quarantine rate, freshness, and cost anomalies.

- **Reconciliation** per load, billing period and connector (Microsoft's rule): FOCUS ``BilledCost`` equals the
  actual cost the source delivered, FOCUS ``EffectiveCost`` the amortized cost. Source totals are the files' own
  costs, summed by the loader over every row it read (``totals``); FOCUS totals over the accounts and charge days
  the load replaced (``reconciliation.reconcile_files``).
- **Quarantine rate** per loaded month: quarantined rows / rows read.
- **Freshness** per billing account: days between the latest charge and today.
- **Completeness** per billing period and account: days without usage between its first and last usage day.
- **Anomalies**: :mod:`app.workflows.anomalies` over the days of the periods.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from app.core.reconciliation import reconcile_files
from app.core.warehouse import Warehouse, quote
from app.ingest.tables import FOCUS_TABLE
from app.workflows import store
from app.workflows.anomalies import detect_in_warehouse
from app.workflows.tables import QUALITY_TABLE
from app.workflows.types import CheckInput, MonthLoad, QualityReport, QualitySettings

METRIC_SOURCES = {"BilledCost": "actual cost", "EffectiveCost": "amortized cost"}


def check(wh: Warehouse, inp: CheckInput) -> QualityReport:
    """Run every check of a load, record the results and anomalies, and summarize them."""
    today = date.fromisoformat(inp.today) if inp.today else datetime.now(UTC).date()
    at = store.now()
    base = {"run_id": inp.run_id, "connector": inp.connector, "checked_at": at}
    accounts = _accounts(wh, [f for load in inp.loads for f in load.files])
    rows = reconcile(wh, inp.loads, inp.settings) + quarantine_rates(inp.loads, inp.settings)
    rows += freshness(wh, sorted({a for accts in accounts.values() for a in accts}), today, inp.settings)
    rows += completeness(wh, accounts)
    rows = [{**base, **r} for r in rows]
    store.insert(wh, QUALITY_TABLE, rows)
    periods = inp.periods or sorted({p for load in inp.loads for p in load.billing_periods})
    anomalies = detect_in_warehouse(wh, _days(wh, periods, today), inp.settings.anomalies, inp.run_id, at)
    report = QualityReport(checks=len(rows), anomalies=len(anomalies))
    for r in rows:
        if r["status"] != "pass":
            report.failed += r["status"] == "fail"
            report.warnings += r["status"] == "warn"
            report.problems.append(f"{r['check']} {r['billing_period']} {r['subject']}: {r['details']}".strip())
    return report


def _accounts(wh: Warehouse, files: list[str]) -> dict[str, set[str]]:
    """Billing accounts per billing period (YYYY-MM) among the FOCUS rows of ``files``."""
    if not files:
        return {}
    rows = wh.rows(f"SELECT DISTINCT formatDateTime(BillingPeriodStart, '%Y-%m') AS p, BillingAccountId AS a "
                   f"FROM {wh.database}.{FOCUS_TABLE} WHERE x_SourceFile IN ({', '.join(quote(f) for f in files)})")
    out: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        out[r["p"]].add(r["a"])
    return out


def reconcile(wh: Warehouse, loads: list[MonthLoad], s: QualitySettings) -> list[dict]:
    """One result per load, billing period, metric and currency the source delivered a total for: FOCUS over the
    accounts and days that load replaced (``reconcile_files``: a load of part of a billing period, as anniversary
    periods have, is checked on its part). A unit loaded again within the run (a folder every month's sync
    loads) is checked once."""
    units = {tuple(sorted(load.files)): load for load in loads if load.files and load.totals}
    out = []
    for files, load in units.items():
        totals = [{"billing_period": t.billing_period, "currency": t.currency, "metric": t.metric, "total": t.total}
                  for t in load.totals]
        for r in reconcile_files(wh, list(files), totals):
            out.append(_reconciliation(r, load.month, s))
    return out


def _reconciliation(r: dict[str, str], month: str, s: QualitySettings) -> dict:
    expected, actual, diff = Decimal(r["source"]), Decimal(r["focus"]), Decimal(r["difference"])
    ok = abs(diff) <= Decimal(str(s.tolerance))
    subject = f"{r['metric']} = {METRIC_SOURCES[r['metric']]}" + (f", {r['currency']}" if r["currency"] else "")
    if month != r["billing_period"]:
        subject += f" (loaded with {month})"
    return {"check": "reconciliation", "billing_period": r["billing_period"], "subject": subject,
            "status": "pass" if ok else "fail", "source_value": str(expected), "focus_value": str(actual),
            "difference": str(diff), "value": float(abs(diff)), "threshold": s.tolerance,
            "details": "" if ok else f"FOCUS {actual} vs source {expected} (difference {diff})"}


def quarantine_rates(loads: list[MonthLoad], s: QualitySettings) -> list[dict]:
    out = []
    for load in loads:
        if load.status != "loaded" or not load.rows_read:
            continue
        rate = load.rows_quarantined / load.rows_read
        status = "fail" if rate > s.quarantine_fail else "warn" if rate > s.quarantine_warn else "pass"
        out.append({"check": "quarantine_rate", "billing_period": load.month, "subject": "rows",
                    "status": status, "value": rate, "threshold": s.quarantine_warn,
                    "details": f"{load.rows_quarantined} of {load.rows_read} rows quarantined"})
    return out


def freshness(wh: Warehouse, accounts: list[str], today: date, s: QualitySettings) -> list[dict]:
    """Days from each billing account's latest charge to ``today`` (every account when ``accounts`` is empty)."""
    where = f"WHERE BillingAccountId IN ({', '.join(quote(a) for a in accounts)})" if accounts else ""
    rows = wh.rows(f"SELECT BillingAccountId AS a, toString(toDate(max(ChargePeriodEnd) - INTERVAL 1 SECOND)) AS d "
                   f"FROM {wh.database}.{FOCUS_TABLE} {where} GROUP BY a ORDER BY a")
    out = []
    for r in rows:
        lag = (today - date.fromisoformat(r["d"])).days
        status = "pass" if lag <= s.freshness_days else "warn" if lag <= 2 * s.freshness_days else "fail"
        out.append({"check": "freshness", "billing_period": "", "subject": r["a"], "status": status,
                    "value": float(lag), "threshold": s.freshness_days,
                    "details": f"latest charge on {r['d']}, {lag} day(s) before {today}"})
    return out


def completeness(wh: Warehouse, accounts: dict[str, set[str]]) -> list[dict]:
    """Per billing period and account loaded: the days between its first and its last usage charge that have no
    usage at all (a day an export or a sync lost passes reconciliation: the source lacks it too)."""
    pairs = [f"({quote(p)}, {quote(a)})" for p, accts in accounts.items() for a in accts]
    if not pairs:
        return []
    rows = wh.rows(f"SELECT formatDateTime(BillingPeriodStart, '%Y-%m') AS p, BillingAccountId AS a, "
                   "arrayMap(d -> toString(d), arraySort(groupUniqArray(toDate(ChargePeriodStart)))) AS days "
                   f"FROM {wh.database}.{FOCUS_TABLE} WHERE (p, a) IN ({', '.join(pairs)}) "
                   "AND ChargeCategory = 'Usage' GROUP BY p, a ORDER BY p, a")
    out = []
    for r in rows:
        held = [date.fromisoformat(d) for d in r["days"]]
        span = [held[0] + timedelta(days=i) for i in range((held[-1] - held[0]).days + 1)]
        missing = sorted(set(span) - set(held))
        shown = ", ".join(str(d) for d in missing[:5]) + (" …" if len(missing) > 5 else "")
        out.append({"check": "completeness", "billing_period": r["p"], "subject": r["a"],
                    "status": "warn" if missing else "pass", "value": float(len(missing)), "threshold": 0.0,
                    "details": f"{len(missing)} day(s) without usage between {held[0]} and {held[-1]}: {shown}"
                    if missing else ""})
    return out


def _days(wh: Warehouse, periods: list[str], today: date) -> list[date]:
    """Days of the periods up to the latest charge day in FOCUS (and never after today)."""
    if not periods:
        return []
    latest = wh.scalar(f"SELECT toString(toDate(max(ChargePeriodStart))) FROM {wh.database}.{FOCUS_TABLE}")
    last = min(today, date.fromisoformat(latest)) if latest and latest != "1970-01-01" else today
    days = []
    for period in periods:
        year, month = int(period[:4]), int(period[5:7])
        first = date(year, month, 1)
        for i in range(calendar.monthrange(year, month)[1]):
            if first + timedelta(days=i) <= last:
                days.append(first + timedelta(days=i))
    return days
