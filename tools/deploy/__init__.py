"""Deployment tools: the connection budget of template.yaml (connection_budget)."""
