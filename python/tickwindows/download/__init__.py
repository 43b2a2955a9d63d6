"""Downloading tick windows: the Polygon v3 client, request pacing, tick files, the checkpoint
store, the job runner and what the terminal shows while it runs."""
