"""Data the fake Azure serves: Cost Details report blobs and legacy EA API rows, from the demo generator.

Reports are the demo's EA actual / amortized CSVs for a month (cached per month and scale), optionally cut to a
date range, split into blobs (each with the header, as Microsoft's partitioned reports are) and gzip-compressed.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
import shutil
import threading
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from app.core.demo import generate

EA_FIELDS = {  # legacy EA API field → demo (current EA schema) column
    "accountName": "AccountName", "accountOwnerEmail": "AccountOwnerId", "subscriptionGuid": "SubscriptionId",
    "subscriptionName": "SubscriptionName", "product": "ProductName", "meterId": "MeterId",
    "meterCategory": "MeterCategory", "meterSubCategory": "MeterSubCategory", "meterRegion": "MeterRegion",
    "meterName": "MeterName", "resourceLocation": "ResourceLocation", "consumedService": "ConsumedService",
    "instanceId": "ResourceId", "serviceInfo1": "ServiceInfo1", "serviceInfo2": "ServiceInfo2",
    "additionalInfo": "AdditionalInfo", "departmentName": "InvoiceSectionName", "costCenter": "CostCenter",
    "unitOfMeasure": "UnitOfMeasure", "resourceGroup": "ResourceGroup",
}


class ReportData:
    """Generates and caches the files behind reports and EA pages (thread-safe)."""

    def __init__(self, root: Path, scale: int = 1) -> None:
        self.root, self.scale = root, scale
        self._lock = threading.Lock()
        self._ea_rows: dict[str, list[dict]] = {}

    def month_file(self, month: date, metric: str) -> Path:
        """The demo export of ``month`` for ``ActualCost`` or ``AmortizedCost``."""
        folder = self.root / f"demo-{month:%Y%m}-x{self.scale}"
        with self._lock:
            if not (folder / ".done").exists():
                generate(folder, month=month, scale=self.scale)
                (folder / ".done").touch()
        kind = "amortizedcost" if metric == "AmortizedCost" else "actualcost"
        return folder / f"ea_{kind}_{month:%Y%m}.csv"

    def blobs(self, report_id: str, month: date, metric: str, start: date, end: date, count: int,
              compress: bool) -> list[Path]:
        """The report's blobs: rows dated ``start``..``end`` split into ``count`` files with headers."""
        folder = self.root / "reports" / report_id
        folder.mkdir(parents=True, exist_ok=True)
        source = self.month_file(month, metric)
        names = [folder / f"part_{i:04d}.csv{'.gz' if compress else ''}" for i in range(count)]
        if count == 1 and start <= month and end >= _last_day(month):  # the whole month in one blob
            _whole(source, names[0], compress)
            return names
        handles = [gzip.open(p, "wt", newline="", encoding="utf-8") if compress
                   else open(p, "w", newline="", encoding="utf-8-sig") for p in names]
        try:
            writers = [csv.writer(h) for h in handles]
            with open(source, newline="", encoding="utf-8-sig") as src:
                reader = csv.reader(src)
                header = next(reader)
                for w in writers:
                    w.writerow(header)
                day = header.index("Date")
                whole = start <= month and end >= _last_day(month)
                for n, row in enumerate(r for r in reader if whole or start <= _us_date(r[day]) <= end):
                    writers[n % count].writerow(row)
        finally:
            for h in handles:
                h.close()
        return names

    def ea_rows(self, month: date) -> list[dict]:
        """Legacy EA API usage rows (camelCase JSON) of ``month``: the demo's actual Usage charges."""
        key = f"{month:%Y%m}"
        with self._lock:
            cached = self._ea_rows.get(key)
        if cached is not None:
            return cached
        rows = []
        with open(self.month_file(month, "ActualCost"), newline="", encoding="utf-8-sig") as src:
            for r in csv.DictReader(src):
                if r["ChargeType"] == "Usage":
                    rows.append(_ea_row(r))
        with self._lock:
            self._ea_rows[key] = rows
        return rows

    def ea_rows_between(self, start: date, end: date) -> list[dict]:
        months = sorted({date(d.year, d.month, 1) for d in (start, end)})
        if len(months) == 2 and (months[1].year - months[0].year) * 12 + months[1].month - months[0].month > 1:
            raise ValueError("the fake serves custom date ranges of at most two adjacent months")
        rows = [r for m in months for r in self.ea_rows(m)]
        return [r for r in rows if start <= date.fromisoformat(r["date"][:10]) <= end]


def _ea_row(r: dict[str, str]) -> dict:
    out: dict = {api: r[col] for api, col in EA_FIELDS.items()}
    out["accountId"] = int(hashlib.sha1(r["AccountName"].encode()).hexdigest()[:6], 16)
    out["date"] = f"{_us_date(r['Date']).isoformat()}T00:00:00"
    out["consumedQuantity"] = float(r["Quantity"] or 0)
    out["resourceRate"] = float(r["EffectivePrice"] or 0)
    out["cost"] = float(Decimal(r["CostInBillingCurrency"]))
    out["tags"] = json.dumps(json.loads("{" + r["Tags"] + "}")) if r["Tags"] else None
    out["storeServiceIdentifier"] = ""
    return out


def _whole(source: Path, blob: Path, compress: bool) -> None:
    """The month file as the blob: linked when it needs no compression (Azure's side of the work is not ours)."""
    if not compress:
        try:
            os.link(source, blob)
            return
        except OSError:
            pass
    with open(source, "rb") as src, (gzip.open(blob, "wb", 6) if compress else open(blob, "wb")) as out:
        shutil.copyfileobj(src, out, 1 << 20)


def _us_date(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()


def _last_day(month: date) -> date:
    import calendar

    return month.replace(day=calendar.monthrange(month.year, month.month)[1])
