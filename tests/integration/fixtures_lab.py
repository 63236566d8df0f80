"""Session fixture: the private Tor lab (not built yet)."""
