"""Reference data from outside totesys: the ECB's euro reference rates."""
