"""Build the sky-context library shipped in ``src/lanner/data/catalogs`` from the shared
reference catalogues, by running ``lanner catalog import`` once per catalogue.

Usage::

    python scripts/build_context_library.py [SHARED_CATALOGS_DIR] [LIBRARY_DIR]

``SHARED_CATALOGS_DIR`` defaults to ``$LANNER_SHARED/data/catalogs`` or
``../shared/data/catalogs`` beside the repository; ``LIBRARY_DIR`` to the packaged library.
The output is deterministic (same input, same Parquet bytes), so the built partitions are
committed and this script is only rerun when the selection below changes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lanner.cli.context import catalog_group

REPO = Path(__file__).resolve().parents[1]

#: (name, file, options): each becomes one ``lanner catalog import NAME FILE ...`` call.
LIBRARY: list[tuple[str, str, list[str]]] = [
    (
        "gaia",
        "stars/gaia_dr3_g_lt_10.parquet",
        [
            "--role",
            "bright_star",
            "--ra",
            "ra",
            "--dec",
            "dec",
            "--where",
            "g_mag < 8",
            "--id",
            "CASE WHEN origin = 'hip2' THEN 'HIP ' || hip ELSE 'Gaia DR3 ' || source_id END",
            "--mag",
            "g_mag",
            "--mag-filter",
            "G",
            "--priority",
            "1",
            "--synonym-radius",
            "3",
            "--description",
            "Gaia DR3 (and Hipparcos 2 for the brightest) stars with G < 8; "
            "ESA/Gaia/DPAC, CC BY-SA 3.0 IGO",
        ],
    ),
    (
        "gcvs",
        "variables_cv/gcvs_positions_types.csv.gz",
        [
            "--role",
            "star",
            "--ra",
            "ra",
            "--dec",
            "dec",
            "--where",
            "NOT is_cv AND NOT is_historic_sn",
            "--id",
            "printf('GCVS J%.5f%+.5f', ra, dec)",
            "--type",
            "var_type",
            "--priority",
            "4",
            "--description",
            "GCVS 5.1 variable stars that are not CVs (Samus et al. 2017)",
        ],
    ),
    (
        "gcvs_cv",
        "variables_cv/gcvs_positions_types.csv.gz",
        [
            "--role",
            "cv",
            "--ra",
            "ra",
            "--dec",
            "dec",
            "--where",
            "is_cv",
            "--id",
            "printf('GCVS J%.5f%+.5f', ra, dec)",
            "--type",
            "var_type",
            "--priority",
            "4",
            "--description",
            "GCVS 5.1 cataclysmic variables and novae (UG, N, NL, AM, DQ types)",
        ],
    ),
    (
        "gwgc",
        "galaxies/gwgc_good.csv.gz",
        [
            "--role",
            "galaxy",
            "--ra",
            "RAJ2000",
            "--dec",
            "DEJ2000",
            "--id",
            "NED_name",
            "--distance",
            "Dist",
            "--major-axis",
            "maj",
            "--axis-unit",
            "arcmin",
            "--axis-is-diameter",
            "--priority",
            "2",
            "--description",
            "Gravitational Wave Galaxy Catalogue (White et al. 2011), GHOST subset",
        ],
    ),
    (
        "openngc",
        "galaxies/openngc.csv.gz",
        [
            "--role",
            "galaxy",
            "--ra",
            "ra",
            "--dec",
            "dec",
            "--where",
            "type IN ('G', 'GPair', 'GTrpl', 'GGroup')",
            "--id",
            "name",
            "--type",
            "hubble",
            "--z",
            "redshift",
            "--mag",
            "bmag",
            "--mag-filter",
            "B",
            "--major-axis",
            "majax",
            "--axis-unit",
            "arcmin",
            "--axis-is-diameter",
            "--priority",
            "1",
            "--description",
            "OpenNGC galaxies (M. Verga), CC-BY-SA-4.0",
        ],
    ),
    (
        "sga",
        "galaxies/sga2020_ngc_subset.csv.gz",
        [
            "--role",
            "galaxy",
            "--ra",
            "RAJ2000",
            "--dec",
            "DEJ2000",
            "--id",
            "Name",
            "--z",
            '"z-LEDA"',
            "--mag",
            "rmagSB26",
            "--mag-filter",
            "r",
            "--major-axis",
            "SMASB26",
            "--priority",
            "1",
            "--description",
            "Siena Galaxy Atlas 2020, NGC galaxies (Moustakas et al. 2023)",
        ],
    ),
    (
        "50mgc",
        "galaxies/50mgc_short.csv.gz",
        [
            "--role",
            "galaxy",
            "--ra",
            "ra",
            "--dec",
            "dec",
            "--id",
            "objname",
            "--type",
            "best_type",
            "--distance",
            "bestdist",
            "--z",
            "v_h / 299792.458",
            "--priority",
            "3",
            "--description",
            "50 Mpc Galaxy Catalog (Ohlson et al. 2024): best distances",
        ],
    ),
    (
        "bzcat",
        "agn_qso/roma_bzcat5_positions.csv.gz",
        [
            "--role",
            "agn",
            "--ra",
            "ra",
            "--dec",
            "dec",
            "--id",
            "name",
            "--type",
            "bzcat_class",
            "--priority",
            "4",
            "--description",
            "Roma-BZCAT 5th edition blazars (Massaro et al. 2015)",
        ],
    ),
    (
        "4lac",
        "agn_qso/fermi_4lac_dr3.csv.gz",
        [
            "--role",
            "agn",
            "--ra",
            "RA_Counterpart",
            "--dec",
            "DEC_Counterpart",
            "--id",
            "ASSOC1",
            "--type",
            "CLASS",
            "--z",
            "Redshift",
            "--priority",
            "4",
            "--description",
            "Fermi-LAT 4LAC-DR3 AGN at their counterpart positions (Ajello 2022)",
        ],
    ),
    (
        "3hsp",
        "agn_qso/3hsp_blazars.csv.gz",
        [
            "--role",
            "agn",
            "--ra",
            "ra",
            "--dec",
            "dec",
            "--id",
            "name",
            "--priority",
            "4",
            "--description",
            "3HSP high-synchrotron-peaked blazars (Chang et al. 2019)",
        ],
    ),
]


def main() -> None:
    shared = Path(os.environ.get("LANNER_SHARED", REPO.parent / "shared")) / "data" / "catalogs"
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else shared
    library = Path(sys.argv[2]) if len(sys.argv) > 2 else REPO / "src/lanner/data/catalogs"
    library.mkdir(parents=True, exist_ok=True)
    for name, file, options in LIBRARY:
        args = ["import", name, str(source / file), "--library", str(library), *options]
        catalog_group.main(args, prog_name="lanner catalog", standalone_mode=False)


if __name__ == "__main__":
    main()
