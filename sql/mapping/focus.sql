-- Any FOCUS 1.0 / 1.1 / 1.2 file (AWS, Google Cloud, OCI, Microsoft FocusCost exports, ...) → FOCUS 1.2.
-- FOCUS columns keep their meaning; values are parsed from text (literal NULL strings are NULL already, date-times
-- with or without T/Z; Tags given as a list of key/value pairs become an object). 1.2 columns absent from older
-- files are derived where 1.2 defines them from other columns (pricing-currency prices, commitment quantities,
-- ListCost = ListUnitPrice x PricingQuantity, ContractedCost = ContractedUnitPrice x PricingQuantity), else take
-- the defaults the 1.2 rules allow (ChargeFrequency, ServiceSubcategory, InvoiceIssuerName, PublisherName, account
-- types and names); otherwise they stay NULL. FOCUS 0.5 names are read as their 1.x columns (app/core/formats.py).
--
-- Input  {source}: FOCUS columns and ABI's x_ columns (app/core/formats.py) as Nullable(String), plus _extra
--                  (other columns, by original name), _row_errors (the row's shape), _row, _ingestion_id,
--                  _source_file, _dataset, _ingested_at.
-- Output: FOCUS and x_ columns (nullable here; sql/validate.sql enforces the rules), _errors, _unmapped, and
--         _source_period/_source_billed/_source_effective/_source_currency: the file's own costs by billing month
--         and currency (reconciliation).
SELECT
    AvailabilityZone AS AvailabilityZone,
    toDecimal128OrNull(BilledCost, 18) AS BilledCost,
    BillingAccountId AS BillingAccountId,
    coalesce(BillingAccountName, BillingAccountId) AS BillingAccountName,
    if(BillingAccountId IS NULL, BillingAccountType, coalesce(BillingAccountType, 'Billing Account')) AS BillingAccountType,
    BillingCurrency AS BillingCurrency,
    -- Ends are exclusive: an inclusive last instant (Microsoft's 23:59:59.999Z) is the next day's start.
    if(formatDateTime(parseDateTimeBestEffortOrNull(BillingPeriodEnd), '%H:%i:%S') = '23:59:59',
       addDays(toStartOfDay(parseDateTimeBestEffortOrNull(BillingPeriodEnd)), 1), parseDateTimeBestEffortOrNull(BillingPeriodEnd)) AS BillingPeriodEnd,
    parseDateTimeBestEffortOrNull(BillingPeriodStart) AS BillingPeriodStart,
    capacity_reservation_id AS CapacityReservationId,
    coalesce(CapacityReservationStatus, if(capacity_reservation_id IS NULL OR ChargeCategory != 'Usage', NULL,
             if(lower(ifNull(ResourceId, '')) LIKE '%/capacityreservationgroups/%/capacityreservations/%'
                    AND capacity_reservation_id = ResourceId, 'Unused', 'Used'))) AS CapacityReservationStatus,
    -- 1.0-preview: a credit was an Adjustment of ChargeSubcategory Credit; 1.0 gave credits their own category.
    if(ChargeCategory = 'Adjustment' AND charge_subcategory = 'credit', 'Credit', ChargeCategory) AS ChargeCategory,
    coalesce(ChargeClass, if(charge_subcategory = 'refund', 'Correction', NULL)) AS ChargeClass,
    ChargeDescription AS ChargeDescription,
    -- Microsoft's FOCUS 1.0 exports call monthly savings plan purchases Usage-Based (fixed as Microsoft's hubs do).
    if(microsoft_purchase AND ChargeFrequency = 'Usage-Based', 'Recurring',
       coalesce(ChargeFrequency, multiIf(ChargeCategory = 'Purchase', 'One-Time', ChargeCategory = 'Usage', 'Usage-Based', 'Recurring')))
        AS ChargeFrequency,
    if(formatDateTime(parseDateTimeBestEffortOrNull(ChargePeriodEnd), '%H:%i:%S') = '23:59:59',
       addDays(toStartOfDay(parseDateTimeBestEffortOrNull(ChargePeriodEnd)), 1), parseDateTimeBestEffortOrNull(ChargePeriodEnd)) AS ChargePeriodEnd,
    parseDateTimeBestEffortOrNull(ChargePeriodStart) AS ChargePeriodStart,
    CommitmentDiscountCategory AS CommitmentDiscountCategory,
    CommitmentDiscountId AS CommitmentDiscountId,
    CommitmentDiscountName AS CommitmentDiscountName,
    commitment_quantity AS CommitmentDiscountQuantity,
    commitment_status AS CommitmentDiscountStatus,
    CommitmentDiscountType AS CommitmentDiscountType,
    coalesce(CommitmentDiscountUnit, if(commitment_quantity IS NULL, NULL,
             multiIf(CommitmentDiscountCategory = 'Spend', upper(coalesce(PricingCurrency, BillingCurrency)),
                     CommitmentDiscountCategory = 'Usage', PricingUnit, NULL))) AS CommitmentDiscountUnit,
    -- Nothing is consumed by a purchase, a credit or the unused part of a commitment (FOCUS 1.2).
    if(consumes, toDecimal128OrNull(ConsumedQuantity, 18), NULL) AS ConsumedQuantity,
    if(consumes, ConsumedUnit, NULL) AS ConsumedUnit,
    contracted_cost AS ContractedCost,
    contracted_unit_price AS ContractedUnitPrice,
    effective_cost AS EffectiveCost,
    InvoiceId AS InvoiceId,
    coalesce(InvoiceIssuerName, ProviderName) AS InvoiceIssuerName,
    -- ListCost = ListUnitPrice × PricingQuantity (FOCUS); a file that leaves it 0 or empty beside a unit price and a
    -- quantity (e.g. Microsoft's partner-billed FocusCost rows) gets the product.
    -- A file without ListCost lists at its contracted cost.
    coalesce(if(ifNull(list_cost, 0) = 0 AND list_unit_price IS NOT NULL AND pricing_quantity IS NOT NULL
                    AND ifNull(ChargeClass, '') != 'Correction',
                accurateCastOrNull(if(abs(toDecimal256(list_unit_price, 18) * pricing_quantity) < {fragment_max_amount}, toDecimal256(list_unit_price, 18) * pricing_quantity, NULL), 'Decimal(38, 18)'), list_cost),
             contracted_cost) AS ListCost,
    list_unit_price AS ListUnitPrice,
    -- FOCUS 1.1+: the purchase of a commitment discount is Standard (FOCUS 1.0 said Committed, as 1.0 files do).
    if(PricingCategory = 'Committed' AND ChargeCategory = 'Purchase' AND CommitmentDiscountId IS NOT NULL,
       'Standard', PricingCategory) AS PricingCategory,
    -- Files older than FOCUS 1.2 have no PricingCurrency* columns: prices in the billing currency are those columns'
    -- own values; in another currency they are converted with the file's x_BillingExchangeRate (billing per pricing).
    coalesce(PricingCurrency, BillingCurrency) AS PricingCurrency,
    coalesce(toDecimal128OrNull(PricingCurrencyContractedUnitPrice, 18), if(in_billing_currency, contracted_unit_price, if(exchange_rate > 0,
             accurateCastOrNull(if(abs(toDecimal256(contracted_unit_price, 36) / nullIf(exchange_rate, 0)) < {fragment_max_amount}, toDecimal256(contracted_unit_price, 36) / nullIf(exchange_rate, 0), NULL), 'Decimal(38, 18)'), NULL)))
        AS PricingCurrencyContractedUnitPrice,
    if(microsoft_purchase, toDecimal128(0, 18), coalesce(toDecimal128OrNull(PricingCurrencyEffectiveCost, 18),
             effective_pricing)) AS PricingCurrencyEffectiveCost,
    coalesce(toDecimal128OrNull(PricingCurrencyListUnitPrice, 18), if(in_billing_currency, list_unit_price, if(exchange_rate > 0,
             accurateCastOrNull(if(abs(toDecimal256(list_unit_price, 36) / nullIf(exchange_rate, 0)) < {fragment_max_amount}, toDecimal256(list_unit_price, 36) / nullIf(exchange_rate, 0), NULL), 'Decimal(38, 18)'), NULL)))
        AS PricingCurrencyListUnitPrice,
    toDecimal128OrNull(PricingQuantity, 18) AS PricingQuantity,
    PricingUnit AS PricingUnit,
    ProviderName AS ProviderName,
    coalesce(PublisherName, ProviderName) AS PublisherName,
    -- A Microsoft file with a region but no RegionName (FOCUS 0.5 / 1.0-preview Region: "East US") gets the Azure
    -- region's id and name where ABI's region table knows it, else its own value as the name. Other providers' ids
    -- stay as written (Google's "EU" is no Azure region).
    if(dictHas('{dictionary_regions}', tuple(region_key)),
       nullIf(dictGet('{dictionary_regions}', 'region_id', tuple(region_key)), ''), RegionId) AS RegionId,
    if(dictHas('{dictionary_regions}', tuple(region_key)),
       nullIf(dictGet('{dictionary_regions}', 'region_name', tuple(region_key)), ''),
       coalesce(RegionName, RegionId)) AS RegionName,
    ResourceId AS ResourceId,
    ResourceName AS ResourceName,
    ResourceType AS ResourceType,
    ServiceCategory AS ServiceCategory,
    ServiceName AS ServiceName,
    -- A file without subcategories (FOCUS 1.0) gets the one ABI's service lookup gives its ServiceName, so a service
    -- has one subcategory whichever file it came from.
    coalesce(ServiceSubcategory, if(known_service.1 = ServiceCategory AND known_service.2 != '', known_service.2, NULL),
             if(ServiceCategory IS NULL, NULL, concat('Other (', ServiceCategory, ')'))) AS ServiceSubcategory,
    SkuId AS SkuId,
    -- Microsoft's exports leave a commitment purchase's meter and price id empty: its SKU's description and term
    -- (a credit's or an adjustment's price id stays empty: it has no price list).
    coalesce(SkuMeter, if(microsoft AND SkuId IS NOT NULL, coalesce(x_SkuDescription, ChargeDescription), NULL))
        AS SkuMeter,
    if(sku_ok, ifNull(SkuPriceDetails, '{}'), '{}') AS SkuPriceDetails,
    coalesce(SkuPriceId, if(microsoft AND SkuId IS NOT NULL AND x_SkuMeterId IS NULL AND ChargeCategory IN ('Usage', 'Purchase'),
             concat(SkuId, if(x_SkuTerm IS NULL, '', concat('_', x_SkuTerm))), NULL)) AS SkuPriceId,
    SubAccountId AS SubAccountId,
    if(SubAccountId IS NULL, SubAccountName, coalesce(SubAccountName, SubAccountId)) AS SubAccountName,
    if(SubAccountId IS NULL, SubAccountType, coalesce(SubAccountType, 'Sub Account')) AS SubAccountType,
    if(Tags IS NOT NULL AND tags_ok, tags_object, '{}') AS Tags,
    x_AccountName AS x_AccountName,
    x_AccountOwnerId AS x_AccountOwnerId,
    toDecimal128OrNull(if(mapContains(custom_text, 'x_BilledCostInUsd'), NULL, x_BilledCostInUsd), 18) AS x_BilledCostInUsd,
    toDecimal128OrNull(if(mapContains(custom_text, 'x_BilledUnitPrice'), NULL, x_BilledUnitPrice), 18) AS x_BilledUnitPrice,
    toDecimal128OrNull(if(mapContains(custom_text, 'x_BillingExchangeRate'), NULL, x_BillingExchangeRate), 18) AS x_BillingExchangeRate,
    x_BillingAccountId AS x_BillingAccountId,
    x_BillingAccountName AS x_BillingAccountName,
    x_BillingProfileId AS x_BillingProfileId,
    x_BillingProfileName AS x_BillingProfileName,
    x_ChargeType AS x_ChargeType,
    toDecimal128OrNull(if(mapContains(custom_text, 'x_ContractedCostInUsd'), NULL, x_ContractedCostInUsd), 18) AS x_ContractedCostInUsd,
    x_CostAllocationRuleName AS x_CostAllocationRuleName,
    x_CostCenter AS x_CostCenter,
    if(microsoft_purchase, toDecimal128(0, 18), toDecimal128OrNull(if(mapContains(custom_text, 'x_EffectiveCostInUsd'), NULL, x_EffectiveCostInUsd), 18)) AS x_EffectiveCostInUsd,
    toDecimal128OrNull(if(mapContains(custom_text, 'x_EffectiveUnitPrice'), NULL, x_EffectiveUnitPrice), 18) AS x_EffectiveUnitPrice,
    x_InvoiceSectionId AS x_InvoiceSectionId,
    x_InvoiceSectionName AS x_InvoiceSectionName,
    toDecimal128OrNull(if(mapContains(custom_text, 'x_ListCostInUsd'), NULL, x_ListCostInUsd), 18) AS x_ListCostInUsd,
    toDecimal128OrNull(if(mapContains(custom_text, 'x_PricingBlockSize'), NULL, x_PricingBlockSize), 18) AS x_PricingBlockSize,
    x_PricingModel AS x_PricingModel,
    x_PricingUnitDescription AS x_PricingUnitDescription,
    x_PublisherType AS x_PublisherType,
    x_ResourceGroupName AS x_ResourceGroupName,
    x_ResourceType AS x_ResourceType,
    x_SkuDescription AS x_SkuDescription,
    x_SkuMeterCategory AS x_SkuMeterCategory,
    x_SkuMeterId AS x_SkuMeterId,
    x_SkuMeterName AS x_SkuMeterName,
    x_SkuMeterSubcategory AS x_SkuMeterSubcategory,
    x_SkuOfferId AS x_SkuOfferId,
    x_SkuPartNumber AS x_SkuPartNumber,
    x_SkuRegion AS x_SkuRegion,
    x_SkuServiceFamily AS x_SkuServiceFamily,
    x_SkuTerm AS x_SkuTerm,
    -- Tags or SkuPriceDetails that are not a JSON object (cut short, a bare value) cost the row nothing but
    -- themselves: kept as written, and counted.
    mapUpdate(if(tags_ok AND sku_ok, _extra, mapUpdate(_extra, mapFilter((k, v) -> v != '', map(
        'Tags', if(tags_ok, '', ifNull(Tags, '')), 'SkuPriceDetails', if(sku_ok, '', ifNull(SkuPriceDetails, '')))))),
        custom_text) AS x_SourceColumns,
    _dataset AS x_SourceDataset,
    _format AS x_SourceFormat,
    _source_file AS x_SourceFile,
    _row AS x_SourceRow,
    _ingestion_id AS x_IngestionId,
    _ingested_at AS x_IngestedAt,
    -- A number with several points (1.2.3, a date 01.10.2026) is none: the engine would read 1.23.
    arrayConcat(_row_errors, arrayFilter(e -> e != '', [
        if(BilledCost IS NOT NULL AND (toDecimal128OrNull(BilledCost, 18) IS NULL OR countSubstrings(BilledCost, '.') > 1), concat('BilledCost: ', if(isFinite(ifNull(toFloat64OrNull(BilledCost), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(BilledCost)), ''),
        if(BillingPeriodEnd IS NOT NULL AND parseDateTimeBestEffortOrNull(BillingPeriodEnd) IS NULL, concat('BillingPeriodEnd: not a date-time: ', toJSONString(BillingPeriodEnd)), ''),
        if(BillingPeriodStart IS NOT NULL AND parseDateTimeBestEffortOrNull(BillingPeriodStart) IS NULL, concat('BillingPeriodStart: not a date-time: ', toJSONString(BillingPeriodStart)), ''),
        if(ChargePeriodEnd IS NOT NULL AND parseDateTimeBestEffortOrNull(ChargePeriodEnd) IS NULL, concat('ChargePeriodEnd: not a date-time: ', toJSONString(ChargePeriodEnd)), ''),
        if(ChargePeriodStart IS NOT NULL AND parseDateTimeBestEffortOrNull(ChargePeriodStart) IS NULL, concat('ChargePeriodStart: not a date-time: ', toJSONString(ChargePeriodStart)), ''),
        if(CommitmentDiscountQuantity IS NOT NULL AND (toDecimal128OrNull(CommitmentDiscountQuantity, 18) IS NULL OR countSubstrings(CommitmentDiscountQuantity, '.') > 1), concat('CommitmentDiscountQuantity: ', if(isFinite(ifNull(toFloat64OrNull(CommitmentDiscountQuantity), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(CommitmentDiscountQuantity)), ''),
        if(ConsumedQuantity IS NOT NULL AND (toDecimal128OrNull(ConsumedQuantity, 18) IS NULL OR countSubstrings(ConsumedQuantity, '.') > 1), concat('ConsumedQuantity: ', if(isFinite(ifNull(toFloat64OrNull(ConsumedQuantity), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(ConsumedQuantity)), ''),
        if(ContractedCost IS NOT NULL AND (toDecimal128OrNull(ContractedCost, 18) IS NULL OR countSubstrings(ContractedCost, '.') > 1), concat('ContractedCost: ', if(isFinite(ifNull(toFloat64OrNull(ContractedCost), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(ContractedCost)), ''),
        if(ContractedUnitPrice IS NOT NULL AND (toDecimal128OrNull(ContractedUnitPrice, 18) IS NULL OR countSubstrings(ContractedUnitPrice, '.') > 1), concat('ContractedUnitPrice: ', if(isFinite(ifNull(toFloat64OrNull(ContractedUnitPrice), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(ContractedUnitPrice)), ''),
        if(EffectiveCost IS NOT NULL AND (toDecimal128OrNull(EffectiveCost, 18) IS NULL OR countSubstrings(EffectiveCost, '.') > 1), concat('EffectiveCost: ', if(isFinite(ifNull(toFloat64OrNull(EffectiveCost), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(EffectiveCost)), ''),
        if(ListCost IS NOT NULL AND (toDecimal128OrNull(ListCost, 18) IS NULL OR countSubstrings(ListCost, '.') > 1), concat('ListCost: ', if(isFinite(ifNull(toFloat64OrNull(ListCost), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(ListCost)), ''),
        if(ListUnitPrice IS NOT NULL AND (toDecimal128OrNull(ListUnitPrice, 18) IS NULL OR countSubstrings(ListUnitPrice, '.') > 1), concat('ListUnitPrice: ', if(isFinite(ifNull(toFloat64OrNull(ListUnitPrice), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(ListUnitPrice)), ''),
        if(PricingCurrencyContractedUnitPrice IS NOT NULL AND (toDecimal128OrNull(PricingCurrencyContractedUnitPrice, 18) IS NULL OR countSubstrings(PricingCurrencyContractedUnitPrice, '.') > 1), concat('PricingCurrencyContractedUnitPrice: ', if(isFinite(ifNull(toFloat64OrNull(PricingCurrencyContractedUnitPrice), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(PricingCurrencyContractedUnitPrice)), ''),
        if(PricingCurrencyEffectiveCost IS NOT NULL AND (toDecimal128OrNull(PricingCurrencyEffectiveCost, 18) IS NULL OR countSubstrings(PricingCurrencyEffectiveCost, '.') > 1), concat('PricingCurrencyEffectiveCost: ', if(isFinite(ifNull(toFloat64OrNull(PricingCurrencyEffectiveCost), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(PricingCurrencyEffectiveCost)), ''),
        if(PricingCurrencyListUnitPrice IS NOT NULL AND (toDecimal128OrNull(PricingCurrencyListUnitPrice, 18) IS NULL OR countSubstrings(PricingCurrencyListUnitPrice, '.') > 1), concat('PricingCurrencyListUnitPrice: ', if(isFinite(ifNull(toFloat64OrNull(PricingCurrencyListUnitPrice), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(PricingCurrencyListUnitPrice)), ''),
        if(PricingQuantity IS NOT NULL AND (toDecimal128OrNull(PricingQuantity, 18) IS NULL OR countSubstrings(PricingQuantity, '.') > 1), concat('PricingQuantity: ', if(isFinite(ifNull(toFloat64OrNull(PricingQuantity), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(PricingQuantity)), ''),
        if(microsoft AND x_BilledCostInUsd IS NOT NULL AND (toDecimal128OrNull(x_BilledCostInUsd, 18) IS NULL OR countSubstrings(x_BilledCostInUsd, '.') > 1), concat('x_BilledCostInUsd: ', if(isFinite(ifNull(toFloat64OrNull(x_BilledCostInUsd), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(x_BilledCostInUsd)), ''),
        if(microsoft AND x_BilledUnitPrice IS NOT NULL AND (toDecimal128OrNull(x_BilledUnitPrice, 18) IS NULL OR countSubstrings(x_BilledUnitPrice, '.') > 1), concat('x_BilledUnitPrice: ', if(isFinite(ifNull(toFloat64OrNull(x_BilledUnitPrice), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(x_BilledUnitPrice)), ''),
        if(microsoft AND x_BillingExchangeRate IS NOT NULL AND (toDecimal128OrNull(x_BillingExchangeRate, 18) IS NULL OR countSubstrings(x_BillingExchangeRate, '.') > 1), concat('x_BillingExchangeRate: ', if(isFinite(ifNull(toFloat64OrNull(x_BillingExchangeRate), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(x_BillingExchangeRate)), ''),
        if(microsoft AND x_ContractedCostInUsd IS NOT NULL AND (toDecimal128OrNull(x_ContractedCostInUsd, 18) IS NULL OR countSubstrings(x_ContractedCostInUsd, '.') > 1), concat('x_ContractedCostInUsd: ', if(isFinite(ifNull(toFloat64OrNull(x_ContractedCostInUsd), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(x_ContractedCostInUsd)), ''),
        if(microsoft AND x_EffectiveCostInUsd IS NOT NULL AND (toDecimal128OrNull(x_EffectiveCostInUsd, 18) IS NULL OR countSubstrings(x_EffectiveCostInUsd, '.') > 1), concat('x_EffectiveCostInUsd: ', if(isFinite(ifNull(toFloat64OrNull(x_EffectiveCostInUsd), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(x_EffectiveCostInUsd)), ''),
        if(microsoft AND x_EffectiveUnitPrice IS NOT NULL AND (toDecimal128OrNull(x_EffectiveUnitPrice, 18) IS NULL OR countSubstrings(x_EffectiveUnitPrice, '.') > 1), concat('x_EffectiveUnitPrice: ', if(isFinite(ifNull(toFloat64OrNull(x_EffectiveUnitPrice), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(x_EffectiveUnitPrice)), ''),
        if(microsoft AND x_ListCostInUsd IS NOT NULL AND (toDecimal128OrNull(x_ListCostInUsd, 18) IS NULL OR countSubstrings(x_ListCostInUsd, '.') > 1), concat('x_ListCostInUsd: ', if(isFinite(ifNull(toFloat64OrNull(x_ListCostInUsd), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(x_ListCostInUsd)), ''),
        if(microsoft AND x_PricingBlockSize IS NOT NULL AND (toDecimal128OrNull(x_PricingBlockSize, 18) IS NULL OR countSubstrings(x_PricingBlockSize, '.') > 1), concat('x_PricingBlockSize: ', if(isFinite(ifNull(toFloat64OrNull(x_PricingBlockSize), nan)), 'out of range (over 20 digits before the point)', 'not a number'), ': ', toJSONString(x_PricingBlockSize)), '')
    ])) AS _errors,
    arrayFilter(e -> e != '', [if(tags_ok, '', 'tags:not a JSON object (kept in x_SourceColumns)'),
        if(sku_ok, '', 'sku_price_details:not a JSON object (kept in x_SourceColumns)')]) AS _unmapped,
    ifNull(formatDateTime(toStartOfMonth(parseDateTimeBestEffortOrNull(BillingPeriodStart)), '%Y-%m'), '')
        AS _source_period,
    if(countSubstrings(BilledCost, '.') > 1, NULL, toDecimal128OrNull(BilledCost, 18)) AS _source_billed,
    effective_cost AS _source_effective,
    upper(ifNull(BillingCurrency, '')) AS _source_currency
FROM
(
    SELECT
        *,
        -- Tags as a JSON object: a list of {"key": …, "value": …} pairs (labels as some providers and Parquet
        -- writers give them) becomes the object FOCUS requires; anything else is kept as it is.
        -- ("Key"/"Value" as AWS's APIs write them; a null value is an empty one, so the key stays).
        if({fragment_tag_pairs_test}, {fragment_tag_pairs_object},
           -- A tab or line break written raw inside a key or value (JSON wants it escaped) is escaped, not lost;
           -- between tokens it is whitespace and stays (as in sql/mapping/azure_cost.sql).
           if(isValidJSON(ifNull(Tags, '')), Tags,
              replaceAll(replaceAll(arrayStringConcat(arrayMap((part, i) -> if(i % 2 = 1, part,
                  replaceAll(replaceAll(replaceAll(part, '\t', '\\t'), '\r', '\\r'), '\n', '\\n')),
                  splitByChar('"', replaceAll(replaceAll(Tags, '\\\\', '\x1e'), '\\"', '\x1f')) AS tag_pieces,
                  arrayEnumerate(tag_pieces)), '"'), '\x1f', '\\"'), '\x1e', '\\\\'))) AS tags_object,
        Tags IS NULL OR (isValidJSON(tags_object) AND startsWith(tags_object, '{')) AS tags_ok,
        SkuPriceDetails IS NULL OR (isValidJSON(SkuPriceDetails) AND startsWith(SkuPriceDetails, '{')) AS sku_ok,
        -- Microsoft's FOCUS exports (and files made from them): known export defects are fixed as Microsoft's own
        -- FinOps hubs fix them. A commitment purchase is amortized, so its EffectiveCost is 0.
        ProviderName = 'Microsoft' OR _format = 'azure-focus' AS microsoft,
        if(RegionName IS NULL AND (microsoft OR match(lower(ifNull(ProviderName, 'microsoft')), 'microsoft|azure')),
           lower(ifNull(RegionId, '')), '\x00') AS region_key,
        microsoft AND ChargeCategory = 'Purchase' AND CommitmentDiscountId IS NOT NULL AS microsoft_purchase,
        -- FOCUS asks only an x_ prefix of custom columns: in another provider's file, Microsoft's numeric x_ names
        -- hold what that provider writes; a value that is no number is kept as text (x_SourceColumns), not refused.
        mapFilter((k, v) -> NOT microsoft AND v != '' AND (toDecimal128OrNull(v, 18) IS NULL OR countSubstrings(v, '.') > 1),
                  map('x_BilledCostInUsd', ifNull(x_BilledCostInUsd, ''), 'x_BilledUnitPrice', ifNull(x_BilledUnitPrice, ''), 'x_BillingExchangeRate', ifNull(x_BillingExchangeRate, ''), 'x_ContractedCostInUsd', ifNull(x_ContractedCostInUsd, ''), 'x_EffectiveCostInUsd', ifNull(x_EffectiveCostInUsd, ''), 'x_EffectiveUnitPrice', ifNull(x_EffectiveUnitPrice, ''), 'x_ListCostInUsd', ifNull(x_ListCostInUsd, ''), 'x_PricingBlockSize', ifNull(x_PricingBlockSize, ''))) AS custom_text,
        if(microsoft_purchase, toDecimal128(0, 18),
           if(countSubstrings(EffectiveCost, '.') > 1, NULL, toDecimal128OrNull(EffectiveCost, 18))) AS effective_cost,
        -- FOCUS 1.0-preview told used and unused commitments, refunds and credits by ChargeSubcategory; a file
        -- without either (Google's FOCUS view) has used the commitment in its usage rows (FOCUS 1.2 wants a status
        -- on every usage row with a CommitmentDiscountId).
        lower(_extra['ChargeSubcategory']) AS charge_subcategory,
        coalesce(CommitmentDiscountStatus, if(CommitmentDiscountId IS NULL, NULL,
                 multiIf(charge_subcategory = 'used commitment', 'Used', charge_subcategory = 'unused commitment',
                         'Unused', ChargeCategory = 'Usage', 'Used', NULL))) AS commitment_status,
        ChargeCategory = 'Usage' AND ifNull(commitment_status, '') != 'Unused' AS consumes,
        if(in_billing_currency, effective_cost,
           if(exchange_rate > 0, accurateCastOrNull(if(abs(toDecimal256(effective_cost, 36) / nullIf(exchange_rate, 0)) < {fragment_max_amount}, toDecimal256(effective_cost, 36) / nullIf(exchange_rate, 0), NULL), 'Decimal(38, 18)'), NULL))
            AS effective_pricing,
        -- Microsoft's SKU details (x_SkuDetails, read as SkuPriceDetails when the file has no such column; keys
        -- x_-prefixed in SkuPriceDetails): the capacity reservation a VM ran in, the reservation units it drew.
        if(microsoft, coalesce(nullIf(_extra['x_SkuDetails'], ''), SkuPriceDetails, ''), '') AS sku_details,
        coalesce(CapacityReservationId, if(position(sku_details, 'VMCapacityReservationId') = 0, NULL,
                 coalesce(nullIf(JSONExtractString(sku_details, 'VMCapacityReservationId'), ''),
                          nullIf(JSONExtractString(sku_details, 'x_VMCapacityReservationId'), ''))))
            AS capacity_reservation_id,
        if(position(sku_details, 'RINormalizationRatio') = 0, toDecimal128(1, 18), ifNull(nullIf(toDecimal128OrNull(
            replaceAll(coalesce(nullIf(JSONExtractRaw(sku_details, 'RINormalizationRatio'), ''),
                                JSONExtractRaw(sku_details, 'x_RINormalizationRatio')), '"', ''), 18), 0),
            toDecimal128(1, 18))) AS normalization_ratio,
        -- Files older than 1.2 have no CommitmentDiscountQuantity: a spend-based commitment counts in the currency it
        -- is bought in (the purchase's billed cost, the effective cost drawn by usage, in the pricing currency), a
        -- usage-based one in its pricing quantity (Microsoft: per block, normalized to the reservation's size).
        coalesce(toDecimal128OrNull(CommitmentDiscountQuantity, 18),
                 if(CommitmentDiscountId IS NULL OR ifNull(ChargeCategory, '') NOT IN ('Usage', 'Purchase')
                        OR ifNull(ChargeClass, '') = 'Correction', NULL,
                    multiIf(CommitmentDiscountCategory = 'Spend',
                            if(ChargeCategory = 'Purchase', toDecimal128OrNull(BilledCost, 18), effective_pricing),
                            CommitmentDiscountCategory = 'Usage' AND microsoft,
                            accurateCastOrNull(if(abs(toDecimal256(pricing_quantity, 36) / greatest(ifNull(
                                toDecimal128OrNull(x_PricingBlockSize, 18), 1), toDecimal128('0.000001', 18))
                                * normalization_ratio) < {fragment_max_amount}, toDecimal256(pricing_quantity, 36) / greatest(ifNull(
                                toDecimal128OrNull(x_PricingBlockSize, 18), 1), toDecimal128('0.000001', 18))
                                * normalization_ratio, NULL), 'Decimal(38, 18)'),
                            CommitmentDiscountCategory = 'Usage', pricing_quantity, NULL))) AS commitment_quantity,
        toDecimal128OrNull(ListCost, 18) AS list_cost,
        -- A usage or purchase row without unit prices (FOCUS requires them) gets the ones its costs imply:
        -- cost / PricingQuantity.
        ChargeCategory IN ('Usage', 'Purchase') AND ifNull(ChargeClass, '') != 'Correction'
            AND ifNull(pricing_quantity, 0) != 0 AS prices_implied,
        coalesce(toDecimal128OrNull(ListUnitPrice, 18), if(prices_implied AND list_cost IS NOT NULL,
                 accurateCastOrNull(if(abs(toDecimal256(list_cost, 36) / nullIf(pricing_quantity, 0)) < {fragment_max_amount}, toDecimal256(list_cost, 36) / nullIf(pricing_quantity, 0), NULL), 'Decimal(38, 18)'), NULL)) AS list_unit_price,
        toDecimal128OrNull(ContractedUnitPrice, 18) AS given_contracted_unit_price,
        coalesce(given_contracted_unit_price, if(prices_implied,
                 accurateCastOrNull(if(abs(toDecimal256(contracted_cost, 36) / nullIf(pricing_quantity, 0)) < {fragment_max_amount}, toDecimal256(contracted_cost, 36) / nullIf(pricing_quantity, 0), NULL), 'Decimal(38, 18)'), NULL)) AS contracted_unit_price,
        -- A file without ContractedCost (FOCUS 0.5, some providers' purchase rows) gets ContractedUnitPrice x
        -- PricingQuantity, else what a purchase was billed and other rows' effective cost (Microsoft's own rule).
        -- Microsoft's exports carry some ContractedCost values that are not ContractedUnitPrice × PricingQuantity
        -- (a correction's may not be: FOCUS lets it "address PricingQuantity or any cost discrepancies independently").
        if(microsoft AND pricing_quantity IS NOT NULL AND x_PricingBlockSize IS NOT NULL
               AND given_contracted_unit_price IS NOT NULL AND ifNull(ChargeClass, '') != 'Correction',
           accurateCastOrNull(if(abs(toDecimal256(given_contracted_unit_price, 18) * pricing_quantity) < {fragment_max_amount}, toDecimal256(given_contracted_unit_price, 18) * pricing_quantity, NULL), 'Decimal(38, 18)'), NULL) AS microsoft_contracted,
        coalesce(if(abs(toDecimal256(ifNull(toDecimal128OrNull(ContractedCost, 18), microsoft_contracted), 18)
                        - toDecimal256(microsoft_contracted, 18)) >= toDecimal256('0.0001', 18),
                    microsoft_contracted, toDecimal128OrNull(ContractedCost, 18)),
                 if(ifNull(ChargeClass, '') = 'Correction', NULL,
                    accurateCastOrNull(if(abs(toDecimal256(given_contracted_unit_price, 18) * pricing_quantity) < {fragment_max_amount}, toDecimal256(given_contracted_unit_price, 18) * pricing_quantity, NULL), 'Decimal(38, 18)')),
                 if(ChargeCategory = 'Purchase', toDecimal128OrNull(BilledCost, 18), effective_cost)) AS contracted_cost,
        toDecimal128OrNull(PricingQuantity, 18) AS pricing_quantity,
        PricingCurrency IS NULL OR upper(PricingCurrency) = upper(ifNull(BillingCurrency, '')) AS in_billing_currency,
        toDecimal128OrNull(if(mapContains(custom_text, 'x_BillingExchangeRate'), NULL, x_BillingExchangeRate), 18) AS exchange_rate,
        dictGet('{dictionary_services_by_name}', ('service_category', 'service_subcategory'), tuple(ifNull(ServiceName, '')))
            AS known_service
    FROM {source}
)
