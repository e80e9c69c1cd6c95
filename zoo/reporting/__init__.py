"""Everything that reads results: metrics (via scikit-learn), figures, reports, comparisons.

Reporting reads run folders, not live objects, so reports can be rebuilt without retraining.
"""
