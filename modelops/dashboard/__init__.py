"""The monitoring dashboard: six panels over the tables, each refreshed by itself; who may see what;
the Prometheus exposition. Read-only, except that an operator may resolve an alert."""
