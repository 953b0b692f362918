"""Support code for the tests and benchmarks: never shipped in the product or the frozen app."""
