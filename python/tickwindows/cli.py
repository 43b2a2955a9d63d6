"""The `tickwindows` command line: parses options and prints; the work lives in the modules."""

from __future__ import annotations

import sys

import click

from . import __version__
from .errors import TickwindowsError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="tickwindows")
def cli() -> None:
    """Turn detected intraday events into a balanced, gate-verified manifest and download
    the trades and quotes around each selected event.

    \b
    Typical flow:
      tickwindows demo-data            # or point dbt at real FASE 2.5 output
      dbt build                        # models + the GO/NO-GO gate
      tickwindows report               # dry-run / gate report
      tickwindows pilot --events 20    # calibrate storage/time estimates
      tickwindows download             # only after a GO
    """


# --- demo-data (demo_data.py) ---

# --- emulator (emulator.py) ---

# --- download / status / pilot (download.py, checkpoint.py, pilot.py) ---

# --- report / export (report.py, export.py) ---


def main() -> None:
    try:
        # Without standalone mode click returns ctx.exit() codes instead of exiting.
        rv = cli.main(standalone_mode=False)
        sys.exit(rv if isinstance(rv, int) else 0)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except TickwindowsError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
