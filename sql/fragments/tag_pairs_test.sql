-- Tags written as a list of {"key": …, "value": …} pairs (labels as some providers and Parquet writers give them;
-- "Key"/"Value" as AWS's APIs write them), or an empty list. Used as {fragment_tag_pairs_test} in sql/mapping/.
startsWith(ifNull(Tags, ''), '[') AND isValidJSON(Tags)
    AND (JSONLength(Tags) = 0 OR JSONHas(Tags, 1, 'key') OR JSONHas(Tags, 1, 'Key'))
