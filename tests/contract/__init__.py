"""Contract suites: one set of tests run for every entry of a registry."""
