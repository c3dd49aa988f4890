"""Privacy: PII scrubbing, tenant isolation and consent."""
