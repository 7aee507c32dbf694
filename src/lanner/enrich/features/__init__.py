"""Light-curve features of each alert's object, computed from the packet's own history.

Each module holds one enricher (or a helper they share) that reads the batch's light-curve
tables (``detections``, ``upper_limits``, ``forced``) and returns columns of the ``objects``
table, one row per alert. Nothing here reads a database or writes anywhere.

Rubin features and Milky Way context (``docs/features-lsst.md``):

* :mod:`.milky_way` — Galactic coordinates and SFD E(B-V) (Rubin and ZTF); runs before the
  Rubin features, which correct fluxes for extinction with its ``ebv``;
* :mod:`.counts` — detection counts and reliability;
* :mod:`.jump` — jump of recent fluxes from the earlier baseline;
* :mod:`.pair_colours` — colours and temperatures from near-simultaneous detection pairs;
* :mod:`.bazin_blackbody` — Bazin / exponential × blackbody fits (models in
  :mod:`.bazin_model`, Planck function in :mod:`.blackbody`);
* :mod:`.absolute_magnitude` — peak absolute magnitudes from the sky-context distance;
* :mod:`.light_curve` — a batch's light-curve tables as flat arrays, Rubin band constants.

ZTF features (``docs/features-ztf.md``): :mod:`.ztf_magnitudes`, :mod:`.ztf_moving_averages`;
both surveys: :mod:`.lightcurve_package`.
"""
