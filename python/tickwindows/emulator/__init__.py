"""A Polygon/Massive v3 trades + quotes emulator on loopback (server) and its deterministic data."""
