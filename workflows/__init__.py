"""ShopOrderWorkflow and its message types; no I/O here."""
