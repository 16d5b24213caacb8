"""Row generator behind ``abi demo``: yields (dataset, row) for one month; see ``app.core.demo``."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from app.core.demo import (
    ACCOUNT,
    EXCHANGED_RESERVATION,
    HEADER,
    REGIONS,
    RESERVATION,
    SAVINGS_PLAN,
    SERVICES,
    SUBSCRIPTIONS,
    money,
    month_days,
)

COST = HEADER.index("CostInBillingCurrency")
PRICE = HEADER.index("EffectivePrice")
RESERVED_VMS = 4
RESERVED_INSTANCES = 5
"""Instances the reservation buys: 4 VMs run on it all day, the fifth instance's hours go unused."""
RESERVATION_MONTHLY = Decimal("560.640000")
RESERVATION_USED = Decimal(RESERVED_VMS) / RESERVED_INSTANCES
SAVINGS_PLAN_HOURLY = Decimal("0.250000")
"""A savings plan cheaper than the pay-as-you-go price of what it covers (48 VM-hours a day at 0.192: 9.216)."""
SAVINGS_PLAN_USED = Decimal("0.95")


def meter_id(service: int, region: str) -> str:
    """The demo's MeterId of a service (index in SERVICES) in a region."""
    return f"{service:08d}-0000-4000-8000-{region[:4].encode().hex():0>12}"


def part_number(service: int) -> str:
    return f"AAA-{service:05d}"


class MonthRows:
    """Iterates a month of rows: ('both'|'actual'|'amortized'|'commitment', row dict)."""

    def __init__(self, month: date, scale: int, rng: random.Random) -> None:
        self.month, self.scale, self.rng = month, scale, rng
        self.days = month_days(month)
        self.period = (f"{month:%m/%d/%Y}", f"{self.days[-1]:%m/%d/%Y}")

    def as_actual(self, record: list[str]) -> list[str]:
        """Actual cost shows commitment-covered usage at zero cost."""
        out = list(record)
        out[COST], out[PRICE] = "0", "0"
        return out

    def __iter__(self) -> Iterator[tuple[str, dict[str, str]]]:
        yield from self._usage()
        yield from self._reservation()
        yield from self._savings_plan()
        yield from self._one_offs()

    def _base(self, sub: tuple, day: date) -> dict[str, str]:
        sub_id, sub_name, section, cost_center = sub
        return {
            "InvoiceSectionName": section, "AccountName": f"{section} Account", "AccountOwnerId": "owner@contoso.example",
            "SubscriptionId": sub_id, "SubscriptionName": sub_name, "Date": f"{day:%m/%d/%Y}",
            "CostCenter": cost_center, "OfferId": "MS-AZR-0017P", "BillingAccountId": ACCOUNT[0],
            "BillingAccountName": ACCOUNT[1], "BillingCurrencyCode": "USD", "BillingPeriodStartDate": self.period[0],
            "BillingPeriodEndDate": self.period[1], "BillingProfileId": ACCOUNT[0], "BillingProfileName": ACCOUNT[1],
            "InvoiceSectionId": f"IS-{sum(map(ord, section)) % 1000:03d}", "IsAzureCreditEligible": "True",
            "PublisherType": "Azure", "PublisherName": "Microsoft",
        }

    def _resources(self) -> Iterator[tuple[int, tuple, tuple, str, str]]:
        for n in range(self.scale):
            for s, svc in enumerate(SERVICES):
                sub = SUBSCRIPTIONS[(s + n) % len(SUBSCRIPTIONS)]
                region = REGIONS[(s + 2 * n) % len(REGIONS)]
                group = f"rg-{svc[2].lower().replace(' ', '-')}-{n % 7}"
                name = f"{svc[1].split('/')[-1].lower()[:10]}{n:05d}{s:02d}"
                yield s, svc, sub, region, group, name

    def _usage(self) -> Iterator[tuple[str, dict[str, str]]]:
        for s, svc, sub, region, group, name in self._resources():
            service, arm, category, subcat, meter, unit, price, qty, family = svc
            rid = f"/subscriptions/{sub[0]}/resourceGroups/{group}/providers/{service}/{arm.split('/')[0]}/{name}"
            if "/" in arm:
                rid += f"/{arm.split('/')[1]}/{name}-db"
            env = ("prod", "dev", "data")[SUBSCRIPTIONS.index(sub)]
            tags = f'"env": "{env}","app": "{group[3:]}","owner": "team-{s % 4}"'
            for day in self.days:
                q = money(self.rng.uniform(*qty))
                row = self._base(sub, day) | {
                    "ResourceGroup": group, "ResourceLocation": region[0], "ProductName": f"{category} {meter} - {region[1]}",
                    "MeterCategory": category, "MeterSubCategory": subcat, "MeterId": meter_id(s, region[0]),
                    "MeterName": meter, "MeterRegion": region[1], "UnitOfMeasure": unit, "Quantity": str(q),
                    "EffectivePrice": price, "CostInBillingCurrency": str(money(q * Decimal(price))),
                    "ConsumedService": service, "ResourceId": rid, "Tags": tags, "ResourceName": name,
                    "UnitPrice": price, "PayGPrice": price, "ChargeType": "Usage", "Frequency": "UsageBased",
                    "PricingModel": "OnDemand", "PartNumber": part_number(s), "ServiceFamily": family,
                    "AdditionalInfo": '{"ServiceType": "Standard"}' if s == 0 else "",
                }
                yield "both", row

    def _commitment(self, sub: tuple, day: date, benefit: tuple[str, str], model: str) -> dict[str, str]:
        return self._base(sub, day) | {
            "ResourceLocation": "eastus", "ConsumedService": "Microsoft.Compute", "MeterCategory": "Virtual Machines",
            "MeterSubCategory": "Dv5 Series", "MeterName": "D4s v5", "MeterRegion": "US East", "UnitOfMeasure": "1 Hour",
            "ProductName": "Virtual Machines Dv5 Series - D4s v5 - US East", "ServiceFamily": "Compute",
            "MeterId": meter_id(0, "eastus"), "PartNumber": part_number(0),
            "PricingModel": model, "benefitId": benefit[0], "benefitName": benefit[1], "UnitPrice": "0.192",
            "PayGPrice": "0.192", "Frequency": "UsageBased", "ResourceGroup": "rg-reserved",
            "ReservationId": benefit[0].split("/")[-1] if model == "Reservation" else "",
            "ReservationName": benefit[1] if model == "Reservation" else "",
        }

    def _reservation(self) -> Iterator[tuple[str, dict[str, str]]]:
        sub = SUBSCRIPTIONS[0]
        daily = money(RESERVATION_MONTHLY / len(self.days))
        unused_hours = 24 * (RESERVED_INSTANCES - RESERVED_VMS)
        for day in self.days:
            for vm in range(RESERVED_VMS):
                cost = money(daily * RESERVATION_USED / RESERVED_VMS)
                yield "commitment", self._commitment(sub, day, RESERVATION, "Reservation") | {
                    "ChargeType": "Usage", "Quantity": "24", "EffectivePrice": str(money(cost / 24)),
                    "CostInBillingCurrency": str(cost), "ResourceName": f"vm-reserved-{vm}",
                    "ResourceId": f"/subscriptions/{sub[0]}/resourceGroups/rg-reserved/providers/"
                                  f"Microsoft.Compute/virtualMachines/vm-reserved-{vm}"}
            unused = daily - money(daily * RESERVATION_USED / RESERVED_VMS) * RESERVED_VMS
            yield "amortized", self._commitment(sub, day, RESERVATION, "Reservation") | {
                "ChargeType": "UnusedReservation", "Quantity": str(unused_hours),
                "EffectivePrice": str(money(unused / unused_hours)),
                "CostInBillingCurrency": str(unused), "ConsumedService": "Microsoft.Capacity"}
        total = daily * len(self.days)
        yield "actual", self._commitment(sub, self.days[0], RESERVATION, "Reservation") | {
            "ChargeType": "Purchase", "Frequency": "Recurring", "Quantity": str(RESERVED_INSTANCES),
            "EffectivePrice": str(total / RESERVED_INSTANCES), "CostInBillingCurrency": str(total),
            "ConsumedService": "Microsoft.Capacity", "Term": "12", "PayGPrice": "0",
            "UnitPrice": str(total / RESERVED_INSTANCES),
            "ProductName": "Reserved VM Instance, Standard_D4s_v5, US East, 1 Year"}

    def _savings_plan(self) -> Iterator[tuple[str, dict[str, str]]]:
        sub = SUBSCRIPTIONS[2]
        daily = money(SAVINGS_PLAN_HOURLY * 24)
        for day in self.days:
            used = money(daily * SAVINGS_PLAN_USED)
            yield "commitment", self._commitment(sub, day, SAVINGS_PLAN, "SavingsPlan") | {
                "ChargeType": "Usage", "Quantity": "48", "EffectivePrice": str(money(used / 48)),
                "CostInBillingCurrency": str(used), "ResourceName": "vm-sp-0",
                "ResourceId": f"/subscriptions/{sub[0]}/resourceGroups/rg-reserved/providers/"
                              "Microsoft.Compute/virtualMachines/vm-sp-0"}
            yield "amortized", self._commitment(sub, day, SAVINGS_PLAN, "SavingsPlan") | {
                "ChargeType": "UnusedSavingsPlan", "Quantity": "1", "EffectivePrice": str(daily - used),
                "CostInBillingCurrency": str(daily - used), "ConsumedService": "Microsoft.BillingBenefits"}
        total = daily * len(self.days)
        yield "actual", self._commitment(sub, self.days[0], SAVINGS_PLAN, "SavingsPlan") | {
            "ChargeType": "Purchase", "Frequency": "Recurring", "Quantity": "1", "EffectivePrice": str(total),
            "CostInBillingCurrency": str(total), "ConsumedService": "Microsoft.BillingBenefits", "PayGPrice": "0",
            "UnitPrice": str(total), "UnitOfMeasure": "1/Month", "Term": "12", "MeterId": "", "PartNumber": "",
            "MeterName": "", "MeterSubCategory": "", "MeterCategory": "Savings Plan",
            "ProductName": "Compute Savings Plan, 1 Year, Hourly commitment"}

    def _one_offs(self) -> Iterator[tuple[str, dict[str, str]]]:
        sub, last = SUBSCRIPTIONS[1], self.days[-1]
        refund = self._commitment(sub, self.days[9], EXCHANGED_RESERVATION, "Reservation") | {
            "ChargeType": "Refund", "Frequency": "OneTime", "Quantity": "-1", "CostInBillingCurrency": "-120.500000",
            "EffectivePrice": "120.500000", "ConsumedService": "Microsoft.Capacity",
            "ProductName": "Reserved VM Instance refund (exchange)", "PayGPrice": "0", "UnitPrice": "120.500000"}
        yield "actual", refund
        for charge, cost, product in (("Credit", "-50.000000", "Azure Credit (promotional)"),
                                      ("Tax", "42.125000", "Sales tax")):
            yield "both", self._base(sub, last) | {
                "ChargeType": charge, "Frequency": "OneTime", "CostInBillingCurrency": cost, "ProductName": product,
                "MeterCategory": charge, "PricingModel": "", "Quantity": "", "PublisherName": "Microsoft"}
