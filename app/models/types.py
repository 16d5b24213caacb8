"""Column types shared by ABI's models, expressed as Moose ClickHouse annotations."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from moose_lib import clickhouse_datetime64
from moose_lib.data_models import ClickHouseJson


@dataclass(frozen=True)
class ClickHouseDecimal:
    """Decimal precision marker read by moose-lib (it looks for ``max_digits``/``decimal_places``).

    Unlike ``pydantic.Field(max_digits=...)`` it adds no validation, and it also works inside ``Optional``.
    """

    max_digits: int
    decimal_places: int


MONEY_PRECISION, MONEY_SCALE = 38, 18

Money = Annotated[Decimal, ClickHouseDecimal(MONEY_PRECISION, MONEY_SCALE)]
"""Exact decimal for costs, unit prices and quantities: Decimal(38, 18)."""

UtcDateTime = datetime
"""ClickHouse DateTime; ABI always reads and writes it in UTC (session_timezone = 'UTC')."""

Timestamp = clickhouse_datetime64(3)

Enum = Annotated[str, "LowCardinality"]
"""Low-cardinality string for enumerations and repeated labels."""

Json = Annotated[dict[str, Any], ClickHouseJson()]
"""ClickHouse JSON object (ClickHouse JSON cannot be Nullable: an empty object stands for null)."""
