"""``lanner data``: the reference data the enrichers use, which files are in use, how to get
the full ones.

Reads the settings and the files they name; loads nothing large and writes nothing.
"""

from __future__ import annotations

import json

import click

from lanner.enrich.features.milky_way import default_sfd_path, dust_map_status
from lanner.enrich.features.sfd_lambert import SFD_FILES, find_sfd_files
from lanner.settings import Settings

HOW_TO_GET_SFD = (
    "The full maps are the two files {files} of Schlegel, Finkbeiner & Davis (1998), "
    "64 MB each: the dustmaps package fetches them (pip install dustmaps; then "
    "python -c 'import dustmaps.sfd; dustmaps.sfd.fetch()', which writes them to its data "
    "folder's sfd/), or take them from the SFD data release (Harvard Dataverse, "
    "doi:10.7910/DVN/EWCNL5). Then set LANNER_SFD_DIR to the folder that holds them (or "
    "its parent with sfd/) and restart Lanner."
)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def data(as_json: bool) -> None:
    """Show which reference data (dust map) the enrichers use and how to get the full maps."""
    settings = Settings()
    kind, why = dust_map_status(settings)
    files = " and ".join(SFD_FILES.values())
    if kind == "full" and settings.sfd_dir is not None:
        found = find_sfd_files(settings.sfd_dir) or {}
        where = ", ".join(str(p) for p in found.values())
        info = {"map": "full", "files": where, "reason": None, "how_to_get_full": None}
    else:
        info = {
            "map": "bundled",
            "files": str(default_sfd_path()),
            "reason": why,
            "how_to_get_full": HOW_TO_GET_SFD.format(files=files),
        }
    if as_json:
        click.echo(json.dumps({"milky_way_dust_map": info}, indent=1))
        return
    click.echo("Milky Way dust map (objects.ebv and every extinction correction):")
    if info["map"] == "full":
        click.echo(f"  in use: the full SFD (1998) maps, 4096x4096 per hemisphere: {info['files']}")
        return
    click.echo(f"  in use: the bundled SFD (1998) map smoothed to ~1 deg: {info['files']}")
    click.echo(f"  ({info['reason']})")
    click.echo("  Against NED's SFD values it is within 10% at |b| >= 20 deg and 20% at")
    click.echo("  5-20 deg, but flattens structure smaller than a degree (half the peak at the")
    click.echo("  Galactic centre); near the plane use the full maps.")
    click.echo(f"  {info['how_to_get_full']}")
