"""The paper's published numbers (shared/reference/paper-facts.md), kept apart from ours.

Only ever shown in columns labelled "paper"; never mixed with our measurements.
"""

# Table 6: Key-to-Door success rate (%), by dataset.
KEYDOOR_TABLE6 = {
    "random-1k": {"dt": 71.8, "cql": 13.1, "bc": 1.4, "pbc": 69.9, "random": 3.1},
    "random-10k": {"dt": 94.6, "cql": 13.3, "bc": 1.6, "pbc": 95.1, "random": 3.1},
}
