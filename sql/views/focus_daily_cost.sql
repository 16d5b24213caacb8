-- Daily cost aggregate of focus_cost: one row per charge day (UTC) and analyst dimension, with the sums the
-- consumption APIs read. Keys are never NULL ('' stands for a missing value) so that they can sort the
-- SummingMergeTree; BillingPeriodStart is kept so that the aggregate has focus_cost's partitions (a partition
-- of focus_cost replaced by the bulk loader is rebuilt here from the same SELECT: app/views/refresh.py).
SELECT
    toDate(ChargePeriodStart, 'UTC') AS ChargeDate,
    BillingPeriodStart,
    BillingAccountId,
    BillingCurrency,
    ifNull(SubAccountId, '') AS SubAccountId,
    ifNull(SubAccountName, '') AS SubAccountName,
    ServiceCategory,
    ServiceName,
    ifNull(RegionId, '') AS RegionId,
    ifNull(RegionName, '') AS RegionName,
    ifNull(x_ResourceGroupName, '') AS x_ResourceGroupName,
    ChargeCategory,
    ifNull(PricingCategory, '') AS PricingCategory,
    ifNull(CommitmentDiscountId, '') AS CommitmentDiscountId,
    ifNull(CommitmentDiscountName, '') AS CommitmentDiscountName,
    ifNull(CommitmentDiscountType, '') AS CommitmentDiscountType,
    ifNull(CommitmentDiscountStatus, '') AS CommitmentDiscountStatus,
    sum(BilledCost) AS BilledCost,
    sum(EffectiveCost) AS EffectiveCost,
    sum(ListCost) AS ListCost,
    sum(ContractedCost) AS ContractedCost,
    sum(ifNull(ConsumedQuantity, 0)) AS ConsumedQuantity,
    count() AS RowCount
FROM focus_cost
GROUP BY ALL
