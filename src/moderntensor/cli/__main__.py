"""``python -m moderntensor.cli`` runs the same command as ``moderntensor``."""

from moderntensor.cli.main import run

run()
