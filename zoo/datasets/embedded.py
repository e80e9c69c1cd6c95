"""scikit-learn bundled datasets (being written)."""
