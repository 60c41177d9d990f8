"""The audit log of the routed exchange: durable, hash-chained, searchable."""
