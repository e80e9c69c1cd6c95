"""MNIST and Fashion-MNIST from the official idx files (filled in by the MNIST work)."""
