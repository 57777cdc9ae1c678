"""The analytic sky of the simulated field: spectra, shapes and light curves as plain functions.

Three sources around the wobble target (see :data:`.schedule.TARGET`):

- ``bright``: a point source at the target with a curved spectrum
  (log-parabola in natural log, as gammapy's ``LogParabolaSpectralModel``);
- ``extended``: a symmetric Gaussian (σ = 0.25°) with a power law, ~0.9° SW of the target;
- ``variable``: a point source ~0.9° NE of the target with a power law whose flux is
  ``F(E) × (1 + A exp(−(t − t_peak)² / 2σ_t²))``: steady, with a flare on the third night.

Energies are in TeV, differential fluxes in cm-2 s-1 TeV-1, angles in deg and
times in MET seconds (TT, see :mod:`.schedule`).

Examples
--------
>>> sky = default_sky()
>>> [s.name for s in sky]
['bright', 'extended', 'variable']
>>> f"{sky[0].dnde(1.0):.2e}"
'3.00e-11'
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .schedule import RUN_CADENCE, TARGET, night_start_met
from .sphere import offset_by

__all__ = ["Source", "default_sky", "BACKGROUND_MC_ID"]

#: MC_ID of background events (sources count from 2, as CTA 1DC numbers its models)
BACKGROUND_MC_ID = 1


@dataclass
class Source:
    """One simulated source.

    ``spectrum`` is ``{"type": "LogParabola" | "PowerLaw", "amplitude": …, "reference": …,
    "alpha"/"beta" or "index": …}``; ``sigma`` (deg) > 0 makes it a symmetric Gaussian;
    ``flare`` is ``{"t_peak": MET s, "sigma": s, "amplitude": peak norm above the steady 1}``.

    Parameters
    ----------
    name : str
        Source name.
    mc_id : int
        MC_ID of its events.
    ra, dec : float
        Position in deg (ICRS).
    spectrum : dict
        The spectrum (amplitude in cm-2 s-1 TeV-1, reference in TeV).
    sigma : float, optional
        Gaussian width in deg (0: a point source).
    flare : dict, optional
        The flare (None: steady).
    """

    name: str
    mc_id: int
    ra: float
    dec: float
    spectrum: dict
    sigma: float = 0.0
    flare: dict | None = field(default=None)

    # ------------------------------------------------------------ spectrum
    def dnde(self, energy):
        """Differential flux in cm-2 s-1 TeV-1 (energy in TeV; time-averaged norm 1 for variable sources).

        Parameters
        ----------
        energy : array-like
            Energies in TeV.

        Returns
        -------
        numpy.ndarray
            dN/dE in cm-2 s-1 TeV-1.

        Raises
        ------
        ValueError
            For an unknown spectrum type.
        """
        p = self.spectrum
        x = np.asarray(energy, dtype=float) / p["reference"]
        if p["type"] == "PowerLaw":
            return p["amplitude"] * x ** -p["index"]
        if p["type"] == "LogParabola":
            return p["amplitude"] * x ** (-p["alpha"] - p["beta"] * np.log(x))
        raise ValueError(f"unknown spectrum type {p['type']!r}")

    # ------------------------------------------------------------ time
    def time_norm(self, met):
        """Flux norm at MET ``met`` (1 for a steady source).

        Parameters
        ----------
        met : array-like
            Times in MET s.

        Returns
        -------
        numpy.ndarray
            The norm.
        """
        t = np.asarray(met, dtype=float)
        if not self.flare:
            return np.ones_like(t)
        f = self.flare
        return 1.0 + f["amplitude"] * np.exp(-0.5 * ((t - f["t_peak"]) / f["sigma"]) ** 2)

    def time_integral(self, t0, t1):
        """∫ norm dt (s) over [t0, t1].

        Parameters
        ----------
        t0, t1 : array-like
            Interval bounds in MET s.

        Returns
        -------
        numpy.ndarray
            The integral in s.
        """
        t0, t1 = np.asarray(t0, dtype=float), np.asarray(t1, dtype=float)
        out = t1 - t0
        if self.flare:
            from scipy.special import erf  # here: scipy.special costs ~16 MiB at import

            f = self.flare
            s = np.sqrt(2.0) * f["sigma"]
            gauss = erf((t1 - f["t_peak"]) / s) - erf((t0 - f["t_peak"]) / s)
            out = out + f["amplitude"] * f["sigma"] * np.sqrt(np.pi / 2) * gauss
        return out

    def sample_times(self, rng, gtis, n):
        """``n`` event times (MET s) inside the GTIs following the light curve (rejection sampling).

        Parameters
        ----------
        rng : `numpy.random.Generator`
            Random generator.
        gtis : list of tuple
            Good time intervals ``(start, stop)`` in MET s.
        n : int
            Number of times.

        Returns
        -------
        numpy.ndarray
            Times in MET s.
        """
        starts = np.array([a for a, _ in gtis], dtype=float)
        stops = np.array([b for _, b in gtis], dtype=float)
        durations = stops - starts
        grid = np.concatenate([np.linspace(a, b, 200) for a, b in gtis])
        norm_max = float(np.max(self.time_norm(grid))) * 1.001 if self.flare else 1.0
        out = np.empty(0)
        while len(out) < n:
            m = max(2 * (n - len(out)), 16)
            k = rng.choice(len(gtis), size=m, p=durations / durations.sum())
            t = starts[k] + rng.random(m) * durations[k]
            if self.flare:
                t = t[rng.random(m) * norm_max < self.time_norm(t)]
            out = np.concatenate([out, t])
        return out[:n]

    # ------------------------------------------------------------ space
    def sample_directions(self, rng, n):
        """True directions (ra, dec in deg) of ``n`` photons.

        Parameters
        ----------
        rng : `numpy.random.Generator`
            Random generator.
        n : int
            Number of photons.

        Returns
        -------
        tuple of numpy.ndarray
            ``(ra, dec)`` in deg.
        """
        if self.sigma <= 0:
            return np.full(n, self.ra), np.full(n, self.dec)
        # symmetric 2D Gaussian: the radius is Rayleigh-distributed
        radius = self.sigma * np.sqrt(-2.0 * np.log1p(-rng.random(n)))
        return offset_by(self.ra, self.dec, rng.uniform(0.0, 360.0, n), radius)

    @property
    def is_point(self) -> bool:
        """True for a point source (``sigma <= 0``)."""
        return self.sigma <= 0


def _flare_peak_met() -> float:
    """Peak of the flare: 30 min after the start of the third night's second run."""
    return float(np.round(night_start_met(2) + RUN_CADENCE + 1800.0))


def default_sky() -> list[Source]:
    """The three sources of the example store (positions rounded to 0.01°).

    Returns
    -------
    list of Source
        ``bright``, ``extended`` and ``variable``.
    """
    ext = offset_by(*TARGET, 240.0, 0.9)
    var = offset_by(*TARGET, 50.0, 0.9)
    r2 = lambda x: float(np.round(x, 2))  # noqa: E731
    return [
        Source("bright", 2, TARGET[0], TARGET[1],
               {"type": "LogParabola", "amplitude": 3.0e-11, "reference": 1.0, "alpha": 2.4, "beta": 0.10}),
        Source("extended", 3, r2(ext[0]), r2(ext[1]),
               {"type": "PowerLaw", "amplitude": 6.0e-12, "reference": 1.0, "index": 2.3}, sigma=0.25),
        Source("variable", 4, r2(var[0]), r2(var[1]),
               {"type": "PowerLaw", "amplitude": 2.0e-12, "reference": 1.0, "index": 2.5},
               flare={"t_peak": _flare_peak_met(), "sigma": 2700.0, "amplitude": 6.0}),
    ]
