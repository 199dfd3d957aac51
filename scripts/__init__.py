"""Developer tools run from the command line (``scripts/devdb.py``)."""
