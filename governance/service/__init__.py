"""The ways in: the CLI, the HTTP API and background jobs, thin over ``governance.flows``."""
