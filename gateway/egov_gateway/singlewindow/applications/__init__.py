"""Applications with SLA clocks and the durable composite process engine (DESIGN §4.3)."""
