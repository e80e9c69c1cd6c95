"""CIFAR-10 and CIFAR-100 from the official python archives (filled in by the CIFAR work)."""
