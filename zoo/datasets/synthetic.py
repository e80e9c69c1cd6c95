"""Synthetic 2-D and 1-D sets (being written)."""
