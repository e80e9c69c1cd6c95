"""The zoo in Jupyter and Colab: live training curves, runs and datasets as HTML, the final table.

Nothing here imports a notebook package: a kernel is recognised when one is running
(`detect`), and the objects return HTML and PNG that Jupyter shows.

- `live`: the curves and progress bar `zoo.train` redraws in place in a notebook.
- `runs`: `open_run`, `show`, and the HTML of a `Run` or a run folder.
- `compare`: `compare(runs)`, the lab's final table with `.to_markdown()` and `.to_csv()`.
"""

from zoo.notebook.compare import Comparison, compare
from zoo.notebook.detect import in_notebook
from zoo.notebook.runs import Picture, figure, open_run, show

__all__ = [
    "Comparison",
    "Picture",
    "compare",
    "figure",
    "in_notebook",
    "open_run",
    "show",
]
