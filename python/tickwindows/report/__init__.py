"""The dry-run / gate report: what it reads from the warehouse, and the terminal, HTML and SVG views."""
