"""A Tryton server for the tests (devserver) and the plant they seed into it (seed, seed_stock,
plant_spec)."""
