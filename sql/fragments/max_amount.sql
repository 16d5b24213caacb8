-- The first amount Decimal(38, 18) cannot hold (20 digits before the point): an amount computed in Decimal256 is
-- compared with it before its cast, which keeps values up to 1.7e20 (128 bits, beyond the column's 38 digits:
-- stored so, an export of them is refused when it loads again). Used as {fragment_max_amount} in sql/mapping/.
toDecimal256('100000000000000000000', 0)
