"""The local half of team sync: bookkeeping, record codecs, deciding and applying."""
