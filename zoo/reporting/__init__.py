"""Everything that draws results: figures, reports, comparisons, a sweep's report.

Reporting reads run folders (and a sweep's folder, spec and summary), not live objects, so
reports can be rebuilt without retraining. The numbers come from below: training's metrics
(`zoo.evaluation.metrics`, via scikit-learn) and `zoo.evaluation.shift`.
"""
