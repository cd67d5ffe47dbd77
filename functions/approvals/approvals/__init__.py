"""Approvals: human decisions for any workflow, by signed email link (GET confirms, POST decides once)."""
