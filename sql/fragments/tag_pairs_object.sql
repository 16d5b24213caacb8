-- The object such a list of pairs names ({fragment_tag_pairs_test}), as JSON text: a null value is an empty one (the
-- key stays), a value that is not a string is kept as its JSON. Used as {fragment_tag_pairs_object} in sql/mapping/.
toJSONString(mapFromArrays(
    arrayMap(t -> JSONExtractString(t, if(JSONHas(t, 'key'), 'key', 'Key')), JSONExtractArrayRaw(ifNull(Tags, ''))),
    arrayMap(t -> multiIf(JSONType(t, if(JSONHas(t, 'value'), 'value', 'Value')) = 'String',
                          JSONExtractString(t, if(JSONHas(t, 'value'), 'value', 'Value')),
                          JSONType(t, if(JSONHas(t, 'value'), 'value', 'Value')) IN ('Null', 'Missing'),
                          '', JSONExtractRaw(t, if(JSONHas(t, 'value'), 'value', 'Value'))),
             JSONExtractArrayRaw(ifNull(Tags, '')))))
