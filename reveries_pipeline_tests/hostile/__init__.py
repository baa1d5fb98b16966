"""Hostile input: each case feeds one value real databases and operators produce, and asserts that it is
kept out or named while an ordinary change made beside it arrives, with nothing duplicated or lost."""
