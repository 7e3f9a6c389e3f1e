"""Infrastructure: the results store (DuckDB), result files, checks on output folders, and the
short display names of models and candidates."""
