"""tickwindows: a gate-verified manifest of intraday events and the download of their tick windows."""

__version__ = "0.1.0"
