"""Command line: one module per command; parses, calls workflows, renders."""
