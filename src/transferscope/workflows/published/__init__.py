"""Published numbers, as package data (the CSV files of this folder), and the literature's
benchmarks built from them (:mod:`transferscope.workflows.published.literature`)."""
