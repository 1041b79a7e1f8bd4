"""``moderntensor config ...``: see and change where settings come from."""

from __future__ import annotations

import typer

from moderntensor.cli.common import JSON_OPTION, console, print_json, print_table
from moderntensor.config import FILE_KEYS, resolve_config, set_config_value

app = typer.Typer(help="Show and set configuration.", no_args_is_help=True)


@app.command()
def show(as_json: bool = JSON_OPTION) -> None:
    """Every setting, its value and where it came from."""
    rows = resolve_config().as_rows()
    if as_json:
        print_json({name: {"value": value or None, "source": source}
                    for name, value, source in rows})
    else:
        print_table("Configuration", ["setting", "value", "source"], [list(r) for r in rows])


@app.command("set")
def set_(
    key: str = typer.Argument(..., help=f"One of: {', '.join(FILE_KEYS)}"),
    value: str = typer.Argument(...),
) -> None:
    """Write a setting into config.toml."""
    path = set_config_value(key, value)
    console.print(f"Set {key} = {value} in {path}")
