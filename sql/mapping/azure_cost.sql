-- Azure Cost Management cost rows (EA and MCA, actual and amortized; exports and Cost Details API) → FOCUS 1.2.
-- Microsoft's published conversion (finops-toolkit docs-mslearn/focus/convert.md), written once as ClickHouse SQL.
--
-- Input  {source}: the canonical Azure columns (app/core/formats.py) as Nullable(String), trimmed, '' and 'NULL'
--                  as NULL, plus _row_errors (the row's shape, e.g. more fields than the header) and lineage:
--                  _row, _ingestion_id, _source_file, _dataset, _ingested_at.
-- Output: every FOCUS column (nullable here; sql/validate.sql enforces the rules), ABI's x_ columns, lineage,
--         _errors (values that do not parse, by column) and _unmapped (lookup misses, as 'kind:value');
--         _source_period/_source_billed/_source_effective/_source_currency: the file's own cost (its dataset's
--         metric) by billing month and currency, summed over every row read, quarantined or not (what
--         reconciliation compares FOCUS with).
SELECT
    AvailabilityZone,
    -- Commitment-covered usage is billed by its purchase (Microsoft: 0). Actual-cost rows are the invoice as they
    -- are: covered usage already costs 0 there, and a row that does not must keep its cost (it reconciles).
    if(is_commitment_usage AND _dataset != 'ActualCost', toDecimal128(0, 18), cost) AS BilledCost,
    account_id AS BillingAccountId,
    -- An account without a display name is named by its id (FOCUS: the name must not be null).
    coalesce(multiIf(billed_by_subscription, SubscriptionName, is_mca, BillingProfileName,
                     coalesce(BillingAccountName, BillingProfileName)), account_id) AS BillingAccountName,
    multiIf(is_mca, 'Billing Profile', billed_by_subscription, 'Subscription', 'Billing Account') AS BillingAccountType,
    upper(BillingCurrencyCode) AS BillingCurrency,
    coalesce(addDays(billing_period_end_day, 1), addMonths(billing_period_start, 1)) AS BillingPeriodEnd,
    billing_period_start AS BillingPeriodStart,
    capacity_reservation_id AS CapacityReservationId,
    -- The capacity reservation's own row is its unused part; a VM's row in it uses it.
    if(capacity_reservation_id IS NULL OR charge_category != 'Usage', NULL,
       if(arm_type = 'microsoft.compute/capacityreservationgroups/capacityreservations', 'Unused', 'Used'))
        AS CapacityReservationStatus,
    charge_category AS ChargeCategory,
    if(charge_type = 'refund', 'Correction', NULL) AS ChargeClass,
    -- Older files have no ProductName: the meter's names describe the charge.
    if(ProductName IS NULL, nullIf(arrayStringConcat(arrayFilter(x -> x != '', [ifNull(MeterCategory, ''),
       ifNull(MeterSubCategory, ''), ifNull(MeterName, '')]), ' - '), ''), ProductName) AS ChargeDescription,
    multiIf(frequency = 'onetime', 'One-Time', frequency = 'recurring', 'Recurring',
            frequency = 'usagebased', 'Usage-Based', charge_category = 'Purchase', 'One-Time', 'Usage-Based')
        AS ChargeFrequency,
    addDays(charge_day, 1) AS ChargePeriodEnd,
    charge_day AS ChargePeriodStart,
    multiIf(benefit LIKE '%/microsoft.capacity/%', 'Usage', benefit LIKE '%/microsoft.billingbenefits/%', 'Spend',
            names_commitment AND pricing_model = 'reservation', 'Usage',
            names_commitment AND pricing_model = 'savingsplan', 'Spend', NULL) AS CommitmentDiscountCategory,
    if(is_commitment, benefit_id, NULL) AS CommitmentDiscountId,
    if(is_commitment, coalesce(BenefitName, ReservationName), NULL) AS CommitmentDiscountName,
    -- Usage-based commitments (reservations) count in the pricing unit, normalized to the reservation's size
    -- (instance size flexibility: AdditionalInfo's RINormalizationRatio); spend-based ones (savings plans) in the
    -- pricing currency they are bought in (Microsoft's conversion). A reservation's purchase counts the hours it
    -- makes eligible (FOCUS 1.2): its instances × the hours bought. Null for corrections and other rows.
    multiIf(NOT names_commitment OR charge_category NOT IN ('Usage', 'Purchase') OR charge_type = 'refund', NULL,
            CommitmentDiscountCategory = 'Spend', cost_pricing,
            reserved_hours IS NOT NULL, accurateCastOrNull(toDecimal256(abs(quantity), 18) * reserved_hours, 'Decimal(38, 18)'),
            accurateCastOrNull(toDecimal256(focus_quantity, 18) * normalization_ratio, 'Decimal(38, 18)')) AS CommitmentDiscountQuantity,
    multiIf(NOT names_commitment, NULL, charge_type IN ('unusedreservation', 'unusedsavingsplan'), 'Unused',
            is_commitment_usage, 'Used', NULL) AS CommitmentDiscountStatus,
    multiIf(CommitmentDiscountCategory = 'Usage', 'Reservation',
            CommitmentDiscountCategory = 'Spend', 'Savings Plan', NULL) AS CommitmentDiscountType,
    multiIf(CommitmentDiscountQuantity IS NULL, NULL, CommitmentDiscountCategory = 'Spend',
            upper(coalesce(PricingCurrencyCode, BillingCurrencyCode)), focus_unit) AS CommitmentDiscountUnit,
    -- Nothing is consumed by the unused part of a commitment (UnusedReservation / UnusedSavingsPlan rows).
    if(is_consumption, focus_quantity, NULL) AS ConsumedQuantity,
    if(is_consumption AND quantity IS NOT NULL, focus_unit, NULL) AS ConsumedUnit,
    -- A refund returns money: its contracted and list costs take the sign of its cost (its quantity may not).
    -- Without a unit price: what a purchase was billed (its EffectiveCost is 0), other rows' effective cost.
    coalesce(accurateCastOrNull(if(refunds, -abs(toDecimal256(unit_price_billing, 18) * quantity),
                             toDecimal256(unit_price_billing, 18) * quantity), 'Decimal(38, 18)'),
             if(charge_category = 'Purchase', BilledCost, EffectiveCost)) AS ContractedCost,
    -- Unit prices are per pricing unit: a price of a block of 1 (most meters) is itself, and the wide division is
    -- skipped (a short-circuit if: 0.3 CPU-s less a million rows).
    if(focus_block = 1, unit_price_billing,
       accurateCastOrNull(toDecimal256(unit_price_billing, 36) / nullIf(focus_block, 0), 'Decimal(38, 18)')) AS ContractedUnitPrice,
    if(is_commitment_purchase, toDecimal128(0, 18), cost) AS EffectiveCost,
    InvoiceId,
    coalesce(PartnerName, 'Microsoft') AS InvoiceIssuerName,
    toDecimal128(multiIf(charge_category = 'Purchase' AND ifNull(list_cost, 0) = 0, cost,
                         list_cost IS NOT NULL, if(refunds, -abs(list_cost), list_cost), ContractedCost), 18)
        AS ListCost,
    if(focus_block = 1, list_unit_price_billing,
       accurateCastOrNull(toDecimal256(list_unit_price_billing, 36) / nullIf(focus_block, 0), 'Decimal(38, 18)')) AS ListUnitPrice,
    -- FOCUS 1.1+: the purchase of a commitment discount (and its refund) is Standard, not Committed (Microsoft's
    -- FOCUS 1.0 conversion says Committed for every reservation or savings plan row).
    if(charge_category IN ('Usage', 'Purchase'),
       multiIf(pricing_model IN ('', 'ondemand') OR is_commitment_purchase, 'Standard', pricing_model = 'spot', 'Dynamic',
               pricing_model IN ('reservation', 'savingsplan'), 'Committed', 'Other'), NULL) AS PricingCategory,
    -- Azure prices in the pricing currency (MCA: often USD) and bills in the billing currency. EA prices and bills
    -- in one currency: there the PricingCurrency* columns equal their billing-currency counterparts.
    upper(coalesce(PricingCurrencyCode, BillingCurrencyCode)) AS PricingCurrency,
    if(focus_block = 1, contracted_price,
       accurateCastOrNull(toDecimal256(contracted_price, 36) / nullIf(focus_block, 0), 'Decimal(38, 18)')) AS PricingCurrencyContractedUnitPrice,
    if(is_commitment_purchase, toDecimal128(0, 18), cost_pricing) AS PricingCurrencyEffectiveCost,
    if(focus_block = 1, list_price,
       accurateCastOrNull(toDecimal256(list_price, 36) / nullIf(focus_block, 0), 'Decimal(38, 18)')) AS PricingCurrencyListUnitPrice,
    -- FOCUS 1.2: a tax row has no pricing quantity (nor unit), whatever Quantity the file writes (0 or 1).
    if(charge_category = 'Tax', NULL, focus_quantity) AS PricingQuantity,
    if(quantity IS NULL OR charge_category = 'Tax', NULL, focus_unit) AS PricingUnit,
    'Microsoft' AS ProviderName,
    coalesce(PublisherName, 'Microsoft') AS PublisherName,
    if(region_known, nullIf(dictGet('{dictionary_regions}', 'region_id', tuple(location_key)), ''),
       nullIf(replaceAll(location_key, ' ', ''), '')) AS RegionId,
    if(region_known, nullIf(dictGet('{dictionary_regions}', 'region_name', tuple(location_key)), ''),
       nullIf(location_text, '')) AS RegionName,
    ResourceId,
    coalesce(ResourceName, nullIf(splitByChar('/', ifNull(ResourceId, ''))[-1], '')) AS ResourceName,
    -- The resource type's display name (Microsoft's resource types table), else the file's own, else the ARM type.
    if(dictHas('{dictionary_resource_types}', tuple(ifNull(resource_type, ''))),
       dictGet('{dictionary_resource_types}', 'resource_type_name', tuple(ifNull(resource_type, ''))),
       coalesce(if(position(ifNull(ResourceType, ''), '/') > 0, NULL, ResourceType), resource_type)) AS ResourceType,
    if(service_known, service.2, 'Other') AS ServiceCategory,
    if(service_known, service.1, fallback_service_name) AS ServiceName,
    if(service_known, service.3, 'Other (Other)') AS ServiceSubcategory,
    -- Files with neither ProductId nor PartNumber (older usage details) name the SKU by its meter; a purchase with
    -- no product or meter id (EA reservation and savings plan purchases) by its product.
    if(charge_category = 'Tax', NULL, coalesce(ProductId, PartNumber, MeterId, ProductName)) AS SkuId,
    if(SkuId IS NULL, NULL, coalesce(MeterName, ProductName)) AS SkuMeter,
    if(info_ok, ifNull(AdditionalInfo, '{}'), '{}') AS SkuPriceDetails,
    -- A meter's price belongs to one SKU: the same MeterId sold under another part number or product (EA and MCA
    -- accounts) is another price.
    -- A meterless purchase has one price per SKU and term.
    -- A commitment's purchase carries the meter it covers but is priced per term (the price sheet's reservation
    -- prices): its price names the term. A credit or adjustment without a meter has no price in any price list.
    multiIf(SkuId IS NULL OR (MeterId IS NULL AND charge_category NOT IN ('Usage', 'Purchase')), NULL,
            MeterId IS NULL, concat(SkuId, term_suffix),
            concat(if(coalesce(ProductId, PartNumber) IS NULL, MeterId, concat(coalesce(ProductId, PartNumber), '_', MeterId)),
                   if(is_commitment_purchase, term_suffix, '')))
        AS SkuPriceId,
    subscription_id AS SubAccountId,
    coalesce(SubscriptionName, subscription_id) AS SubAccountName,
    if(subscription_id IS NULL, NULL, 'Subscription') AS SubAccountType,
    if(tags_ok, tags_json, '{}') AS Tags,
    AccountName AS x_AccountName,
    AccountOwnerId AS x_AccountOwnerId,
    if(is_commitment_usage AND _dataset != 'ActualCost', toDecimal128(0, 18), toDecimal128OrNull(CostInUsd, 18))
        AS x_BilledCostInUsd,
    if(focus_block = 1, effective_price_billing,
       accurateCastOrNull(toDecimal256(effective_price_billing, 36) / nullIf(focus_block, 0), 'Decimal(38, 18)')) AS x_BilledUnitPrice,
    if(converts OR ExchangeRatePricingToBilling IS NOT NULL, exchange_rate, NULL) AS x_BillingExchangeRate,
    BillingAccountId AS x_BillingAccountId,
    BillingAccountName AS x_BillingAccountName,
    BillingProfileId AS x_BillingProfileId,
    BillingProfileName AS x_BillingProfileName,
    ChargeType AS x_ChargeType,
    CAST(NULL AS Nullable(Decimal(38, 18))) AS x_ContractedCostInUsd,
    CostAllocationRuleName AS x_CostAllocationRuleName,
    CostCenter AS x_CostCenter,
    if(is_commitment_purchase, toDecimal128(0, 18), toDecimal128OrNull(CostInUsd, 18)) AS x_EffectiveCostInUsd,
    if(focus_block = 1, effective_price_billing,
       accurateCastOrNull(toDecimal256(effective_price_billing, 36) / nullIf(focus_block, 0), 'Decimal(38, 18)')) AS x_EffectiveUnitPrice,
    InvoiceSectionId AS x_InvoiceSectionId,
    InvoiceSectionName AS x_InvoiceSectionName,
    toDecimal128OrNull(PaygCostInUsd, 18) AS x_ListCostInUsd,
    focus_block AS x_PricingBlockSize,
    PricingModel AS x_PricingModel,
    UnitOfMeasure AS x_PricingUnitDescription,
    PublisherType AS x_PublisherType,
    if(ResourceGroup IS NULL, nullIf(extract(ifNull(ResourceId, ''), '(?i)(?:^|/)resourcegroups/([^/]*)'), ''),
       ResourceGroup) AS x_ResourceGroupName,
    resource_type AS x_ResourceType,
    ProductName AS x_SkuDescription,
    MeterCategory AS x_SkuMeterCategory,
    MeterId AS x_SkuMeterId,
    MeterName AS x_SkuMeterName,
    MeterSubCategory AS x_SkuMeterSubcategory,
    OfferId AS x_SkuOfferId,
    PartNumber AS x_SkuPartNumber,
    MeterRegion AS x_SkuRegion,
    ServiceFamily AS x_SkuServiceFamily,
    Term AS x_SkuTerm,
    -- Azure columns with no FOCUS or x_ home are kept by name, with the file's other columns (and Tags that are
    -- not JSON, as written).
    mapUpdate(_extra, mapFilter((k, v) -> v != '', map(
        'ConsumedService', ifNull(ConsumedService, ''), 'ServiceInfo1', ifNull(ServiceInfo1, ''),
        'ServiceInfo2', ifNull(ServiceInfo2, ''), 'ProductOrderId', ifNull(ProductOrderId, ''),
        'ProductOrderName', ifNull(ProductOrderName, ''), 'IsAzureCreditEligible', ifNull(IsAzureCreditEligible, ''),
        'PlanName', ifNull(PlanName, ''), 'ExchangeRateDate', ifNull(ExchangeRateDate, ''),
        'PreviousInvoiceId', ifNull(PreviousInvoiceId, ''), 'ResellerName', ifNull(ResellerName, ''),
        'ServicePeriodStartDate', ifNull(ServicePeriodStartDate, ''),
        'ServicePeriodEndDate', ifNull(ServicePeriodEndDate, ''),
        'Tags', if(tags_ok, '', ifNull(Tags, '')), 'AdditionalInfo', if(info_ok, '', ifNull(AdditionalInfo, ''))
        ))) AS x_SourceColumns,
    _dataset AS x_SourceDataset,
    'azure-cost' AS x_SourceFormat,
    _source_file AS x_SourceFile,
    _row AS x_SourceRow,
    _ingestion_id AS x_IngestionId,
    _ingested_at AS x_IngestedAt,
    arrayConcat(_row_errors, arrayFilter(e -> e != '', [
        if(CostInBillingCurrency IS NULL, 'CostInBillingCurrency: missing', ''),
        if(CostInBillingCurrency IS NOT NULL AND cost IS NULL,
           concat('CostInBillingCurrency: ', if(isFinite(ifNull(toFloat64OrNull(CostInBillingCurrency), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(CostInBillingCurrency)), ''),
        if(Date IS NULL, 'Date: missing', ''),
        if(Date IS NOT NULL AND charge_day IS NULL, concat('Date: not a date: ', toJSONString(Date)), ''),
        if(Quantity IS NOT NULL AND quantity IS NULL, concat('Quantity: ', if(isFinite(ifNull(toFloat64OrNull(Quantity), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(Quantity)), ''),
        if(UnitPrice IS NOT NULL AND unit_price IS NULL, concat('UnitPrice: ', if(isFinite(ifNull(toFloat64OrNull(UnitPrice), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(UnitPrice)), ''),
        if(PayGPrice IS NOT NULL AND payg_price IS NULL, concat('PayGPrice: ', if(isFinite(ifNull(toFloat64OrNull(PayGPrice), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(PayGPrice)), ''),
        -- The other amounts: text that is no number (several points: 1.2.3) quarantines the row too.
        if(EffectivePrice IS NOT NULL AND (countSubstrings(EffectivePrice, '.') > 1 OR toDecimal128OrNull(EffectivePrice, 18) IS NULL), concat('EffectivePrice: ', if(isFinite(ifNull(toFloat64OrNull(EffectivePrice), nan)) AND countSubstrings(EffectivePrice, '.') < 2, 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(EffectivePrice)), ''),
        if(CostInPricingCurrency IS NOT NULL AND (countSubstrings(CostInPricingCurrency, '.') > 1 OR toDecimal128OrNull(CostInPricingCurrency, 18) IS NULL), concat('CostInPricingCurrency: ', if(isFinite(ifNull(toFloat64OrNull(CostInPricingCurrency), nan)) AND countSubstrings(CostInPricingCurrency, '.') < 2, 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(CostInPricingCurrency)), ''),
        if(ExchangeRatePricingToBilling IS NOT NULL AND (countSubstrings(ExchangeRatePricingToBilling, '.') > 1 OR toDecimal128OrNull(ExchangeRatePricingToBilling, 18) IS NULL), concat('ExchangeRatePricingToBilling: ', if(isFinite(ifNull(toFloat64OrNull(ExchangeRatePricingToBilling), nan)) AND countSubstrings(ExchangeRatePricingToBilling, '.') < 2, 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(ExchangeRatePricingToBilling)), ''),
        if(PaygCostInBillingCurrency IS NOT NULL AND (countSubstrings(PaygCostInBillingCurrency, '.') > 1 OR toDecimal128OrNull(PaygCostInBillingCurrency, 18) IS NULL), concat('PaygCostInBillingCurrency: ', if(isFinite(ifNull(toFloat64OrNull(PaygCostInBillingCurrency), nan)) AND countSubstrings(PaygCostInBillingCurrency, '.') < 2, 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(PaygCostInBillingCurrency)), ''),
        if(CostInUsd IS NOT NULL AND (countSubstrings(CostInUsd, '.') > 1 OR toDecimal128OrNull(CostInUsd, 18) IS NULL), concat('CostInUsd: ', if(isFinite(ifNull(toFloat64OrNull(CostInUsd), nan)) AND countSubstrings(CostInUsd, '.') < 2, 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(CostInUsd)), ''),
        if(PaygCostInUsd IS NOT NULL AND (countSubstrings(PaygCostInUsd, '.') > 1 OR toDecimal128OrNull(PaygCostInUsd, 18) IS NULL), concat('PaygCostInUsd: ', if(isFinite(ifNull(toFloat64OrNull(PaygCostInUsd), nan)) AND countSubstrings(PaygCostInUsd, '.') < 2, 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(PaygCostInUsd)), ''),
        if(BillingPeriodStartDate IS NOT NULL AND parseDateTimeBestEffortUSOrNull(BillingPeriodStartDate) IS NULL,
           concat('BillingPeriodStartDate: not a date: ', toJSONString(BillingPeriodStartDate)), ''),
        if(BillingPeriodEndDate IS NOT NULL AND billing_period_end_day IS NULL,
           concat('BillingPeriodEndDate: not a date: ', toJSONString(BillingPeriodEndDate)), ''),
        -- Values in range whose product is not (Quantity × price, a price per small block, a cost converted at a
        -- tiny rate): the row is quarantined, not the file refused.
        if(ifNull(greatest(abs(toFloat64(quantity)) * greatest(toFloat64(focus_block), 1) * toFloat64(normalization_ratio),
                           abs(toFloat64(quantity)) * price_magnitude, price_magnitude / least(toFloat64(focus_block), 1),
                           abs(toFloat64(cost)) / if(exchange_rate IN (0, 1), 1, toFloat64(exchange_rate))) >= 1e20, false),
           concat('Quantity × price: out of range (an amount computed from them has over 20 digits before the point): ',
                  'Quantity ', toJSONString(ifNull(Quantity, '')), ', UnitPrice ', toJSONString(ifNull(UnitPrice, '')),
                  ', PayGPrice ', toJSONString(ifNull(PayGPrice, '')), ', UnitOfMeasure ',
                  toJSONString(ifNull(UnitOfMeasure, ''))), '')
    ])) AS _errors,
    arrayFilter(e -> e != '', [
        -- Tax, credit and adjustment rows belong to no service (Other): no lookup missed.
        if(NOT service_known AND charge_category IN ('Usage', 'Purchase'),
           concat('service:', coalesce(ConsumedService, MeterCategory, '')), ''),
        if(UnitOfMeasure IS NOT NULL AND NOT unit_known, concat('unit:', UnitOfMeasure), ''),
        if(location_text != '' AND NOT region_known, concat('region:', location_text), ''),
        if(NOT tags_ok AND Tags IS NOT NULL, 'tags:not JSON (kept in x_SourceColumns)', ''),
        if(NOT info_ok, 'additional_info:not JSON (kept in x_SourceColumns)', '')
    ]) AS _unmapped,
    ifNull(formatDateTime(billing_period_start, '%Y-%m'), '') AS _source_period,
    if(_dataset = 'AmortizedCost', NULL, cost) AS _source_billed,
    if(_dataset = 'AmortizedCost', cost, NULL) AS _source_effective,
    upper(ifNull(BillingCurrencyCode, '')) AS _source_currency,
    if(unit_known, dictGet('{dictionary_pricing_units}', 'pricing_unit', tuple(unit_key)), unit_fallback) AS focus_unit,
    if(unit_known, dictGet('{dictionary_pricing_units}', 'block_size', tuple(unit_key)), block_fallback) AS focus_block,
    if(focus_block = 1, quantity, accurateCastOrNull(toDecimal256(quantity, 18) * focus_block, 'Decimal(38, 18)')) AS focus_quantity
FROM
(
    SELECT
        *,
        -- A number with several points (1.2.3, a date 01.10.2026) is none: the engine would read 1.23.
        if(countSubstrings(CostInBillingCurrency, '.') > 1, NULL, toDecimal128OrNull(CostInBillingCurrency, 18)) AS cost,
        if(countSubstrings(Quantity, '.') > 1, NULL, toDecimal128OrNull(Quantity, 18)) AS quantity,
        if(countSubstrings(UnitPrice, '.') > 1, NULL, toDecimal128OrNull(UnitPrice, 18)) AS unit_price,
        if(countSubstrings(PayGPrice, '.') > 1, NULL, toDecimal128OrNull(PayGPrice, 18)) AS payg_price,
        -- A rate of 0 or none (some MCA rows) is the one the row's two costs imply, else 1.
        toDecimal128OrNull(ExchangeRatePricingToBilling, 18) AS given_exchange_rate,
        if(ifNull(given_exchange_rate, 0) != 0, given_exchange_rate, ifNull(accurateCastOrNull(toDecimal256(cost, 36)
            / nullIf(toDecimal128OrNull(CostInPricingCurrency, 18), 0), 'Decimal(38, 18)'), toDecimal128(1, 18)))
            AS exchange_rate,
        BillingProfileId IS NOT NULL AND BillingProfileId != ifNull(BillingAccountId, '') AS is_mca,
        -- Files with no billing account or profile column (pay-as-you-go usage details, a partner's customer view)
        -- are billed by subscription: the subscription is the billing account.
        -- A file without a subscription column names it in each ResourceId.
        if(SubscriptionId IS NULL, nullIf(extract(ifNull(ResourceId, ''), '(?i)^/subscriptions/([^/]+)'), ''),
           SubscriptionId) AS subscription_id,
        BillingAccountId IS NULL AND BillingProfileId IS NULL AND subscription_id IS NOT NULL AS billed_by_subscription,
        if(is_mca, BillingProfileId, coalesce(BillingAccountId, BillingProfileId, subscription_id)) AS account_id,
        -- Prices are in the pricing currency: converted at the file's rate for MCA and wherever the two currencies
        -- differ (partner and CSP files have no billing profile).
        is_mca OR upper(ifNull(PricingCurrencyCode, ifNull(BillingCurrencyCode, ''))) != upper(ifNull(BillingCurrencyCode, ''))
            AS converts,
        -- A file without UnitPrice (pay-as-you-go usage details: ResourceRate) is priced at its effective price
        -- where no commitment applies, else at its pay-as-you-go price. A tax row has no unit price (FOCUS 1.2: null;
        -- the 0 Azure files write there is none), so its contracted and list costs are its cost.
        if(charge_category = 'Tax', NULL,
           if(UnitPrice IS NOT NULL, unit_price, coalesce(if(is_commitment, NULL, toDecimal128OrNull(EffectivePrice, 18)),
                                                          payg_price))) AS contracted_price,
        if(converts, accurateCastOrNull(toDecimal256(contracted_price, 18) * exchange_rate, 'Decimal(38, 18)'), contracted_price)
            AS unit_price_billing,
        if(converts, accurateCastOrNull(toDecimal256(toDecimal128OrNull(EffectivePrice, 18), 18) * exchange_rate, 'Decimal(38, 18)'),
           toDecimal128OrNull(EffectivePrice, 18)) AS effective_price_billing,
        coalesce(toDecimal128OrNull(CostInPricingCurrency, 18),
                 if(exchange_rate IN (0, 1), cost, accurateCastOrNull(toDecimal256(cost, 36) / nullIf(exchange_rate, 0), 'Decimal(38, 18)'))) AS cost_pricing,
        -- A row without a pay-as-you-go price (PayGPrice 0 or empty: commitment purchases, older EA files) lists at
        -- its own unit price, so ListCost is never below ContractedCost.
        if(charge_category = 'Tax', NULL,
           if(ifNull(payg_price, 0) = 0 AND contracted_price IS NOT NULL, contracted_price, payg_price)) AS list_price,
        greatest(abs(toFloat64(ifNull(contracted_price, 0))), abs(toFloat64(ifNull(list_price, 0))),
                 abs(toFloat64(ifNull(toDecimal128OrNull(EffectivePrice, 18), 0)))) * greatest(toFloat64(exchange_rate), 1)
            AS price_magnitude,
        if(converts, accurateCastOrNull(toDecimal256(list_price, 18) * exchange_rate, 'Decimal(38, 18)'), list_price) AS list_unit_price_billing,
        if(charge_category = 'Tax', nullIf(toDecimal128OrNull(PaygCostInBillingCurrency, 18), 0),
           coalesce(toDecimal128OrNull(PaygCostInBillingCurrency, 18),
                    accurateCastOrNull(toDecimal256(list_unit_price_billing, 18) * quantity, 'Decimal(38, 18)'))) AS list_cost,
        -- A date is the calendar day written: a UTC offset after its time is dropped as the file is read
        -- (conventions.OFFSET_SQL).
        toStartOfDay(parseDateTimeBestEffortUSOrNull(Date)) AS charge_day,
        toStartOfDay(parseDateTimeBestEffortUSOrNull(BillingPeriodEndDate)) AS billing_period_end_day,
        -- The file's own billing period (a pay-as-you-go period can start mid-month), else the charge's month.
        coalesce(toStartOfDay(parseDateTimeBestEffortUSOrNull(BillingPeriodStartDate)),
                 toDateTime(toStartOfMonth(charge_day))) AS billing_period_start,
        lower(ifNull(ChargeType, '')) AS charge_type,
        charge_type = 'refund' AND ifNull(cost, 0) < 0 AS refunds,
        -- Older EA files name the reservation on covered rows but leave PricingModel empty; the EA schema's
        -- documentation spells it "On Demand".
        replaceAll(lower(ifNull(PricingModel, multiIf(benefit = '', '', benefit LIKE '%/microsoft.billingbenefits/%',
                                                      'savingsplan', 'reservation'))), ' ', '') AS pricing_model,
        lower(ifNull(Frequency, '')) AS frequency,
        -- The API writes an all-zero GUID where no commitment applies.
        coalesce(nullIf(BenefitId, '00000000-0000-0000-0000-000000000000'),
                 nullIf(ReservationId, '00000000-0000-0000-0000-000000000000')) AS benefit_id,
        lower(ifNull(benefit_id, '')) AS benefit,
        multiIf(charge_type IN ('', 'usage', 'unusedreservation', 'unusedsavingsplan'), 'Usage',
                charge_type IN ('purchase', 'refund'), 'Purchase', charge_type = 'tax', 'Tax',
                charge_type = 'credit', 'Credit', 'Adjustment') AS charge_category,
        pricing_model IN ('reservation', 'savingsplan')
            OR charge_type IN ('unusedreservation', 'unusedsavingsplan') AS is_commitment,
        -- A commitment's FOCUS columns need its id (null with it, FOCUS 1.2): a trimmed export's rows without
        -- BenefitId or ReservationId keep the commitment's money rules only.
        is_commitment AND benefit_id IS NOT NULL AS names_commitment,
        is_commitment AND charge_category = 'Usage' AS is_commitment_usage,
        is_commitment AND charge_category = 'Purchase' AS is_commitment_purchase,
        -- A reservation's term in months and days: "12", "36" (EA: months), "P1Y", "P1Y6M", "P365D" (ISO 8601),
        -- "1 Year", "1.5 Years", "36 Months"; none when it says none of these. Without a Term (a trimmed export), the
        -- term the reservation's order or product names ("Reserved VM Instance; Standard_B1s; UK South; 3 Years").
        upper(replaceAll(if(trimBoth(ifNull(Term, '')) != '', Term, extract(concat(ifNull(ProductOrderName, ''), ';',
              ifNull(ProductName, '')), '(?i)(?:^|[;,\\s])([0-9]+(?:\\.[0-9]+)?\\s*(?:years?|months?))(?:[;,\\s]|$)')), ' ', '')) AS term_text,
        multiIf(match(term_text, '^P([0-9]+Y)?([0-9]+M)?([0-9]+D)?$') AND term_text != 'P',
                toUInt32OrZero(extract(term_text, '([0-9]+)Y')) * 12 + toUInt32OrZero(extract(term_text, '([0-9]+)M')),
                match(term_text, '^[0-9]+(\\.[0-9]+)?(MONTHS?)?$'), toUInt32(round(toFloat64OrZero(extract(term_text, '^[0-9.]+')))),
                match(term_text, '^[0-9]+(\\.[0-9]+)?YEARS?$'), toUInt32(round(toFloat64OrZero(extract(term_text, '^[0-9.]+')) * 12)),
                NULL) AS term_months,
        if(match(term_text, '^P.*[0-9]+D$'), toUInt32OrZero(extract(term_text, '([0-9]+)D$')), 0) AS term_days,
        -- Hours one reserved instance is bought for: the term's when paid upfront, one month's when paid monthly,
        -- from the day charged (hourly units only).
        if(is_commitment_purchase AND pricing_model = 'reservation' AND unit_key IN ('1 hour', '1 hours', 'hours', 'hour'),
           nullIf(dateDiff('hour', charge_day, multiIf(replaceAll(frequency, ' ', '') = 'recurring', addMonths(charge_day, 1),
                  replaceAll(frequency, ' ', '') = 'onetime' AND term_months IS NOT NULL,
                  addDays(addMonths(charge_day, term_months), term_days), NULL)), 0),
           NULL) AS reserved_hours,
        if(Term IS NULL, '', concat('_', Term)) AS term_suffix,
        charge_category = 'Usage' AND charge_type NOT IN ('unusedreservation', 'unusedsavingsplan') AS is_consumption,
        coalesce(ResourceLocation, MeterRegion, '') AS location_text,
        lower(location_text) AS location_key,
        lower(ifNull(UnitOfMeasure, '')) AS unit_key,
        -- An unknown unit's block, thousands commas and all, leading or in brackets (``10,000 Transactions``,
        -- ``10,000s``, ``Transactions (in 10,000s)``: 10000).
        extract(unit_key, '^([0-9](?:[0-9]|[.,][0-9])*)(?:s\\b|\\s*[km]?\\b)') AS unit_lead,
        replaceAll(if(unit_lead != '', unit_lead,
                      extract(unit_key, '\\(in ([0-9](?:[0-9]|[.,][0-9])*)s?\\)\\s*$')), ',', '') AS unit_number,
        greatest(ifNull(nullIf(toDecimal128OrNull(unit_number, 18), 0), toDecimal128(1, 18))
                 * multiIf(match(unit_key, '^[0-9.,]+\\s*k\\b'), 1000, match(unit_key, '^[0-9.,]+\\s*m\\b'), 1000000, 1),
                 toDecimal128('0.000000000000000001', 18)) AS block_fallback_raw,
        toDecimal128(block_fallback_raw, 18) AS block_fallback,
        trimBoth(replaceRegexpOne(replaceRegexpOne(ifNull(UnitOfMeasure, ''),
            '^\\s*[0-9](?:[0-9]|[.,][0-9])*(?:[sS]\\b|\\s*[KkMm]?\\b)\\s*', ''),
            '\\s*\\([Ii]n [0-9](?:[0-9]|[.,][0-9])*[sS]?\\)\\s*$', '')) AS unit_rest,
        -- What an unknown unit names after its block size; a bare count per period (10K/Month) counts Units.
        multiIf(unit_rest = '', 'Units', startsWith(unit_rest, '/'), concat('Units', unit_rest), unit_rest) AS unit_fallback,
        -- The ARM type after the last 'providers' segment: the namespace, then every other segment (the types, not
        -- the names). Worked out once per distinct ResourceId of a block (a low-cardinality column).
        replaceRegexpAll(extract(lower(toLowCardinality(ifNull(ResourceId, ''))), '^(?:.*/)?providers/(.*)$'),
                         '(/[^/]*)/[^/]*', '\\1') AS arm_type,
        -- A commitment's own rows (purchase, refund, unused part) without a consumed service are its service's.
        lower(coalesce(ConsumedService, if(charge_type NOT IN ('purchase', 'refund', 'unusedreservation',
              'unusedsavingsplan'), '', multiIf(pricing_model = 'reservation', 'microsoft.capacity',
              pricing_model = 'savingsplan', 'microsoft.billingbenefits', '')))) AS consumed_service_key,
        -- The ARM resource type: the file's own column where it holds one, else the type the ResourceId names.
        nullIf(lower(if(position(ifNull(ResourceType, ''), '/') > 0, ResourceType, arm_type)), '') AS resource_type,
        lower(ifNull(MeterCategory, '')) AS meter_category_key,
        -- Tags as a list of {"key": …, "value": …} pairs (a Parquet list of structs, as Spark writes tags) become
        -- the object they list, as in sql/mapping/focus.sql; a list of anything else stays as written.
        if({fragment_tag_pairs_test}, {fragment_tag_pairs_object},
           if(startsWith(ifNull(Tags, ''), '{'), Tags, concat('{', ifNull(Tags, ''), '}'))) AS tags_text,
        -- A tab or line break written raw inside a key or value (JSON wants it escaped) is escaped, not lost; between
        -- tokens (pretty-printed tags) it is whitespace and stays. Text is split at its quotes (escaped quotes and
        -- backslashes set aside): every other piece is inside a string.
        if(isValidJSON(tags_text), tags_text,
           replaceAll(replaceAll(arrayStringConcat(arrayMap((part, i) -> if(i % 2 = 1, part,
               replaceAll(replaceAll(replaceAll(part, '\t', '\\t'), '\r', '\\r'), '\n', '\\n')),
               splitByChar('"', replaceAll(replaceAll(tags_text, '\\\\', '\x1e'), '\\"', '\x1f')) AS tags_pieces,
               arrayEnumerate(tags_pieces)), '"'), '\x1f', '\\"'), '\x1e', '\\\\')) AS tags_json,
        Tags IS NOT NULL AND isValidJSON(tags_json) AS tags_ok,
        -- AdditionalInfo that is not a JSON object (cut short at a spreadsheet's 32,767 characters) is kept as text.
        AdditionalInfo IS NULL OR (isValidJSON(AdditionalInfo) AND startsWith(AdditionalInfo, '{')) AS info_ok,
        -- AdditionalInfo facts (looked for only where named): the reservation units an hour of a flexible VM size
        -- draws, and the capacity reservation a VM ran in.
        if(is_commitment AND position(ifNull(AdditionalInfo, ''), 'RINormalizationRatio') > 0,
           ifNull(nullIf(toDecimal128OrNull(replaceAll(JSONExtractRaw(AdditionalInfo, 'RINormalizationRatio'), '"', ''),
                                            18), 0), toDecimal128(1, 18)), toDecimal128(1, 18)) AS normalization_ratio,
        -- Built as text, then NULL where empty: a NULL made by if(…, ResourceId, NULL) keeps every row's ResourceId
        -- under its null map, written to disk (13 MB a million rows, compressed, for a column of NULLs).
        nullIf(multiIf(position(ifNull(AdditionalInfo, ''), 'VMCapacityReservationId') > 0
                           AND JSONExtractString(AdditionalInfo, 'VMCapacityReservationId') != '',
                       JSONExtractString(AdditionalInfo, 'VMCapacityReservationId'),
                       arm_type = 'microsoft.compute/capacityreservationgroups/capacityreservations',
                       ifNull(ResourceId, ''), ''), '') AS capacity_reservation_id,
        dictHas('{dictionary_pricing_units}', tuple(unit_key)) AS unit_known,
        dictHas('{dictionary_regions}', tuple(location_key)) AS region_known,
        multiIf(dictHas('{dictionary_services_by_resource_type}', tuple(arm_type)),
                dictGet('{dictionary_services_by_resource_type}', {service_attributes}, tuple(arm_type)),
                dictHas('{dictionary_services_by_consumed_service}', tuple(consumed_service_key)),
                dictGet('{dictionary_services_by_consumed_service}', {service_attributes},
                        tuple(consumed_service_key)),
                dictHas('{dictionary_services_by_meter_category}', tuple(meter_category_key)),
                dictGet('{dictionary_services_by_meter_category}', {service_attributes},
                        tuple(meter_category_key)),
                -- A service none of the keys know is named by its meter category (or consumed service); where that
                -- is a known service's name, it takes that service's category and subcategory (FOCUS: one
                -- ServiceName, one ServiceCategory and ServiceSubcategory).
                tuple(if(dictHas('{dictionary_services_by_name}', tuple(fallback_service_name)), fallback_service_name,
                         ''),
                      dictGet('{dictionary_services_by_name}', 'service_category', tuple(fallback_service_name)),
                      dictGet('{dictionary_services_by_name}', 'service_subcategory', tuple(fallback_service_name))))
            AS service,
        -- A marketplace row without meter or consumed service (EA marketplace charges) is Azure Marketplace's.
        coalesce(MeterCategory, ConsumedService,
                 if(lower(ifNull(PublisherType, '')) = 'marketplace', 'Azure Marketplace', NULL), 'Unknown')
            AS fallback_service_name,
        service.1 != '' AS service_known
    FROM {source}
) AS a
