"""Interactive work on a host: the VT emulator, shell sessions and port forwards (no Qt here)."""
