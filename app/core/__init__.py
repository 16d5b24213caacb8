"""ABI's core: billing files read, mapped to FOCUS and loaded into the warehouse."""

import csv

# Python's csv refuses a field over 128 KiB, but a long Tags or AdditionalInfo cell is data, not a broken file. Raised
# here, before any module of the package parses a line (a header read, a sample of the first rows, a spaced CSV
# copy), whichever file a process opens first.
csv.field_size_limit(2**31 - 1)
