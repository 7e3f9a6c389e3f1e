"""Self-contained HTML reports (and static figures) from the results of any command.

Examples
--------
>>> import pandas as pd
>>> from transferscope.report import Results, build_report
>>> table = pd.DataFrame({"rank": [1, 2], "candidate": ["a", "b"], "logme": [0.5, 0.1]})
>>> page = build_report([Results("ranking", table)], title="Which model?")  # doctest: +SKIP
>>> page.startswith("<!DOCTYPE html>")  # doctest: +SKIP
True
"""

from transferscope.report.build import build_report, load_results, write_figures, write_report
from transferscope.report.sections import Results, benchmark_results, matrix_results

__all__ = ["Results", "benchmark_results", "matrix_results", "build_report", "load_results", "write_report", "write_figures"]
