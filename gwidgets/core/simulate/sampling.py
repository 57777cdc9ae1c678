"""Event sampling through the tabulated IRFs (the ones written to the files).

Sources: expected counts ``μ = DEADC × ∫_GTI norm(t) dt × ∫ dN/dE · A_eff(E, θ) dE``
(averaged over the source shape for extended sources, by thinning), ``N ~ Poisson(μ)``;
true energies from ``dN/dE · A_eff``; reconstructed energy ``E_true × migra`` with the
migration drawn from the EDISP table at (E_true, θ); reconstructed direction = true
direction moved by a radius drawn from the PSF table's radial profile at a uniform
position angle; times from the light curve inside the GTIs.

Background: drawn directly in (E_reco, fov_lon, fov_lat) from the BKG table's rate
by Poisson thinning of an envelope process, so the number of events is exactly
Poisson with mean ``ONTIME × ∫ rate dE dΩ`` (the GADF background rate is per unit of
observation time, dead time included: gammapy and gwidgets multiply it by the GTI sum, not
the live time); then converted to RA/Dec around the pointing (:func:`.sphere.fov_to_sky`).

All IRF values come from the tables as written to the files
(:class:`.tables.IRFTable`), interpolated as gammapy does (multilinear on the bin
centres, log energy, linear extrapolation to the axis edges, clipped at 0; log
values for the background).
"""
from __future__ import annotations

import numpy as np

from .sky import BACKGROUND_MC_ID
from .sphere import fov_to_sky, offset_by, separation

__all__ = ["InstrumentSampler", "sample_piecewise_linear", "E_RECO_RANGE"]

#: reconstructed-energy range of the event lists (TeV)
E_RECO_RANGE = (0.1, 100.0)


def sample_piecewise_linear(x, f, u):
    """Inverse-CDF draws from piecewise-linear densities.

    ``x`` (K,) is a common increasing grid, ``f`` (N, K) ≥ 0 the density of each
    draw at the grid points, ``u`` (N,) uniform numbers. Exact for densities
    that are linear between grid points (the quadratic CDF is inverted).

    Parameters
    ----------
    x : array-like
        Grid, shape ``(K,)``, increasing.
    f : array-like
        Densities at the grid points, shape ``(N, K)`` (negative values count as 0).
    u : array-like
        Uniform numbers in [0, 1), shape ``(N,)``.

    Returns
    -------
    numpy.ndarray
        One draw per row, shape ``(N,)``.

    Examples
    --------
    >>> sample_piecewise_linear([0.0, 1.0], [[1.0, 1.0], [0.0, 2.0]], [0.5, 0.25]).tolist()
    [0.5, 0.5]
    """
    x = np.asarray(x, dtype=float)
    f = np.clip(np.asarray(f, dtype=float), 0.0, None)
    n = len(f)
    h = np.diff(x)
    f0, f1 = f[:, :-1], f[:, 1:]
    cum = np.cumsum(0.5 * (f0 + f1) * h, axis=1)
    target = np.asarray(u, dtype=float) * cum[:, -1]
    seg = np.minimum(np.sum(cum < target[:, None], axis=1), len(h) - 1)
    rows = np.arange(n)
    prev = np.where(seg > 0, cum[rows, np.maximum(seg - 1, 0)], 0.0)
    r = np.clip(target - prev, 0.0, None)
    a, b, hh = f0[rows, seg], f1[rows, seg], h[seg]
    s = (b - a) / hh
    with np.errstate(divide="ignore", invalid="ignore"):
        t = 2 * r / (a + np.sqrt(np.clip(a * a + 2 * s * r, 0.0, None)))
    t = np.where(np.isfinite(t), t, 0.0)
    return x[seg] + np.clip(t, 0.0, hh)


def _weights(nodes, x):
    """Lower node index and weight of the upper node for linear interpolation (and extrapolation)."""
    k = np.clip(np.searchsorted(nodes, x) - 1, 0, len(nodes) - 2)
    return k, (x - nodes[k]) / (nodes[k + 1] - nodes[k])


def _with_edges(edges, centers, values):
    """Extend node values (…, K) with the linear extrapolation to both axis edges, clipped at 0."""
    lo = values[..., :1] + (values[..., 1:2] - values[..., :1]) * (edges[0] - centers[0]) / (centers[1] - centers[0])
    hi = (values[..., -1:]
          + (values[..., -1:] - values[..., -2:-1]) * (edges[-1] - centers[-1]) / (centers[-1] - centers[-2]))
    grid = np.concatenate([[edges[0]], centers, [edges[-1]]])
    return grid, np.clip(np.concatenate([lo, values, hi], axis=-1), 0.0, None)


class InstrumentSampler:
    """Draws events of one instrument (``{"aeff", "edisp", "psf", "bkg"}`` → `.tables.IRFTable`).

    Parameters
    ----------
    irfs : dict
        IRF tables by name, as returned by `~gwidgets.core.simulate.tables.read_tables`.
    """

    #: fine grids for the true-energy sampling: ln E (400 per decade) and offset (steps of a
    #: quarter of the AEFF offset bin, so the AEFF nodes are grid points)
    N_E_PER_DECADE = 400

    def __init__(self, irfs: dict):
        self.irfs = irfs
        aeff = irfs["aeff"]
        e_edges = aeff.edges["energy_true"]
        n_e = int(round(np.log10(e_edges[-1] / e_edges[0]) * self.N_E_PER_DECADE)) + 1
        self.e_true = np.geomspace(e_edges[0], e_edges[-1], n_e)
        th_edges = aeff.edges["offset"]
        step = np.min(np.diff(th_edges)) / 4
        self.theta = np.linspace(th_edges[0], th_edges[-1], int(round((th_edges[-1] - th_edges[0]) / step)) + 1)
        self.aeff_cm2 = aeff.evaluate(energy_true=self.e_true[None, :], offset=self.theta[:, None]) * 1e4  # m2 -> cm2
        self._source_rows = {}
        self._edisp = self._node_table(irfs["edisp"], "migra")
        self._psf = self._node_table(irfs["psf"], "rad")
        self._bkg_rate_per_s = None
        self._frac = None

    # ----------------------------------------------------------------- IRF node tables
    @staticmethod
    def _node_table(irf, inner):
        """(ln E centres, θ centres, inner grid incl. edges, values (E, θ, inner)) of EDISP or PSF."""
        data = irf.data
        if inner == "migra":  # EDISP is stored (E, migra, θ)
            data = np.moveaxis(data, 1, 2)
        grid, values = _with_edges(irf.edges[inner], irf.nodes[inner], data)
        return irf.nodes["energy_true"], irf.nodes["offset"], grid, values

    @staticmethod
    def _node_density(table, energy, offset):
        """Interpolated inner-axis density (N, K) at each (energy, offset), as the IRF evaluate does."""
        ln_e, th, _, values = table
        ke, we = _weights(ln_e, np.log(energy))
        kt, wt = _weights(th, offset)
        out = 0.0
        for de, a in ((0, 1 - we), (1, we)):
            for dt, b in ((0, 1 - wt), (1, wt)):
                out = out + (a * b)[:, None] * values[ke + de, kt + dt]
        return np.clip(out, 0.0, None)

    def edisp_density(self, migra, energy, offset):
        """EDISP pdf at migra (vector) for events at (energy, offset) — for tests against ``evaluate``.

        Parameters
        ----------
        migra : array-like
            Migration values ``E_reco / E_true``.
        energy : array-like
            True energies in TeV, one per event.
        offset : array-like
            Offsets in deg, one per event.

        Returns
        -------
        numpy.ndarray
            Density per unit migra, shape ``(n_events, len(migra))``.
        """
        grid = self._edisp[2]
        dens = self._node_density(self._edisp, np.atleast_1d(energy), np.atleast_1d(offset))
        return np.array([np.interp(migra, grid, d) for d in dens])

    def psf_density(self, rad, energy, offset):
        """PSF profile (sr-1) at rad (vector, deg) for events at (energy, offset).

        Parameters
        ----------
        rad : array-like
            Angular distances in deg.
        energy : array-like
            True energies in TeV, one per event.
        offset : array-like
            Offsets in deg, one per event.

        Returns
        -------
        numpy.ndarray
            dP/dΩ in sr-1, shape ``(n_events, len(rad))``.
        """
        grid = self._psf[2]
        dens = self._node_density(self._psf, np.atleast_1d(energy), np.atleast_1d(offset))
        return np.array([np.interp(rad, grid, d) for d in dens])

    # ----------------------------------------------------------------- sources
    def _reco_fraction(self):
        """P(E_reco in E_RECO_RANGE | E_true, θ) on the (θ, E) sampling grid, from the EDISP table."""
        if self._frac is None:
            grid = self._edisp[2]
            frac = np.empty_like(self.aeff_cm2)
            n = len(self.e_true)
            for j, th in enumerate(self.theta):
                dens = self._node_density(self._edisp, self.e_true, np.full(n, th))
                area = 0.5 * (dens[:, 1:] + dens[:, :-1]) * np.diff(grid)
                cum = np.concatenate([np.zeros((n, 1)), np.cumsum(area, axis=1)], axis=1)
                bounds = []
                for e_lim in E_RECO_RANGE:
                    m = np.clip(e_lim / self.e_true, grid[0], grid[-1])
                    k = np.clip(np.searchsorted(grid, m) - 1, 0, len(grid) - 2)
                    w = (m - grid[k]) / (grid[k + 1] - grid[k])
                    rows = np.arange(n)
                    bounds.append((1 - w) * cum[rows, k] + w * cum[rows, k + 1])
                with np.errstate(invalid="ignore", divide="ignore"):
                    frac[j] = np.nan_to_num((bounds[1] - bounds[0]) / cum[:, -1])
            self._frac = frac
        return self._frac

    def _rows(self, source):
        """Per source: E·dN/dE·A_eff on the (θ, ln E) grid (s-1 per unit ln E), and its E-integrals.

        The E-integral per θ, over all true energies and for reconstructed energies in E_RECO_RANGE.
        """
        rows = self._source_rows.get(source.name)
        if rows is None:
            g = self.e_true * source.dnde(self.e_true) * self.aeff_cm2
            ln_e = np.log(self.e_true)
            integral = np.trapezoid(g, ln_e, axis=1)
            integral_reco = np.trapezoid(g * self._reco_fraction(), ln_e, axis=1)
            rows = self._source_rows[source.name] = (g, integral, integral_reco)
        return rows

    def rate(self, source, offset, reco_range=False):
        """Expected rate (s-1, norm 1) of ``source`` photons at offset(s) ``offset`` (deg).

        With ``reco_range``, only those reconstructed within E_RECO_RANGE.

        Parameters
        ----------
        source : `~gwidgets.core.simulate.sky.Source`
            The source.
        offset : array-like
            Offset of the source from the pointing in deg (0 beyond the AEFF offset range).
        reco_range : bool, optional
            Count only photons reconstructed within ``E_RECO_RANGE``.

        Returns
        -------
        numpy.ndarray
            Rate in s-1.
        """
        return np.interp(offset, self.theta, self._rows(source)[2 if reco_range else 1], right=0.0)

    def expected_rate(self, source, ra_pnt, dec_pnt, reco_range=False, n_quad=64):
        """Mean rate (s-1, norm 1) over the source shape (deterministic quadrature).

        Parameters
        ----------
        source : `~gwidgets.core.simulate.sky.Source`
            The source.
        ra_pnt, dec_pnt : float
            Pointing position in deg.
        reco_range : bool, optional
            Count only photons reconstructed within ``E_RECO_RANGE``.
        n_quad : int, optional
            Quadrature points per dimension for extended sources.

        Returns
        -------
        float
            Rate in s-1.
        """
        if source.is_point:
            return float(self.rate(source, separation(ra_pnt, dec_pnt, source.ra, source.dec), reco_range))
        q = (np.arange(n_quad) + 0.5) / n_quad
        radius = source.sigma * np.sqrt(-2 * np.log1p(-q))
        pa = np.arange(n_quad) * 360.0 / n_quad
        ra, dec = offset_by(source.ra, source.dec, pa[None, :], radius[:, None])
        return float(np.mean(self.rate(source, separation(ra_pnt, dec_pnt, ra, dec), reco_range)))

    def source_events(self, rng, source, run):
        """Events of one source in one run: dict of arrays (time, ra, dec, energy, mc_id) and E_true.

        Parameters
        ----------
        rng : `numpy.random.Generator`
            Random generator.
        source : `~gwidgets.core.simulate.sky.Source`
            The source.
        run : `~gwidgets.core.simulate.schedule.Run`
            The observation.

        Returns
        -------
        dict
            Arrays ``time`` (MET s), ``ra``, ``dec`` (deg), ``energy``, ``e_true`` (TeV) and ``mc_id``.
        """
        g, integral, _ = self._rows(source)
        t_norm = float(sum(source.time_integral(a, b) for a, b in run.gtis))
        scale = run.deadc * t_norm  # s of live time × mean norm
        if source.is_point:
            offset = separation(run.ra_pnt, run.dec_pnt, source.ra, source.dec)
            n = rng.poisson(scale * float(self.rate(source, offset)))
            ra, dec = source.sample_directions(rng, n)
        else:  # thinning: candidates at the maximum rate, kept with probability rate(θ)/max
            r_max = float(integral.max())
            m = rng.poisson(scale * r_max)
            ra, dec = source.sample_directions(rng, m)
            keep = rng.random(m) * r_max < self.rate(source, separation(run.ra_pnt, run.dec_pnt, ra, dec))
            ra, dec = ra[keep], dec[keep]
            n = len(ra)
        offset = separation(run.ra_pnt, run.dec_pnt, ra, dec)
        # true energy: A_eff is linear in θ between grid rows -> mixture of the two neighbouring rows
        j, w = _weights(self.theta, offset)
        p_hi = w * integral[j + 1] / np.maximum((1 - w) * integral[j] + w * integral[j + 1], 1e-300)
        row = j + (rng.random(n) < p_hi)
        e_true = np.exp(sample_piecewise_linear(np.log(self.e_true), g[row], rng.random(n)))
        # reconstructed energy
        migra_grid = self._edisp[2]
        migra = sample_piecewise_linear(migra_grid, self._node_density(self._edisp, e_true, offset), rng.random(n))
        energy = e_true * migra
        # reconstructed direction: radial density 2π sin(r) PSF(r) on a refined grid
        rad_nodes = self._psf[2]
        rad = np.unique(np.concatenate([np.linspace(a, b, 9) for a, b in zip(rad_nodes[:-1], rad_nodes[1:])]))
        prof = self._node_density(self._psf, e_true, offset)
        prof_fine = np.array([np.interp(rad, rad_nodes, p) for p in prof]) if n else np.zeros((0, len(rad)))
        r = sample_piecewise_linear(rad, prof_fine * np.sin(np.deg2rad(rad)), rng.random(n))
        ra, dec = offset_by(ra, dec, rng.uniform(0.0, 360.0, n), r)
        time = source.sample_times(rng, run.gtis, n)
        return {"time": time, "ra": ra, "dec": dec, "energy": energy, "e_true": e_true,
                "mc_id": np.full(n, source.mc_id, dtype=np.int16)}

    # ----------------------------------------------------------------- background
    def _bkg_envelope(self):
        """Power-law envelope per interval between energy nodes: (E nodes, maxima over the FoV nodes)."""
        bkg = self.irfs["bkg"]
        e = bkg.center("energy")
        g = bkg.data.reshape(len(e), -1).max(axis=1) * 1.0001
        return e, g

    def background_rate(self, n_e=121, n_fov=81):
        """∫ rate dE dΩ (s-1) over E_RECO_RANGE and the FoV square (fine-grid trapezoid, cached).

        Parameters
        ----------
        n_e : int, optional
            Energy grid points.
        n_fov : int, optional
            Grid points per field-of-view axis.

        Returns
        -------
        float
            Background rate in s-1 (per second of observation time).
        """
        if self._bkg_rate_per_s is None:
            bkg = self.irfs["bkg"]
            fov = bkg.edges["fov_lon"]
            e = np.geomspace(*E_RECO_RANGE, n_e)
            x = np.linspace(fov[0], fov[-1], n_fov)
            lat = np.deg2rad(x)
            v = bkg.evaluate(energy=e[:, None, None], fov_lon=x[None, None, :], fov_lat=x[None, :, None])
            v = v * np.cos(lat)[None, :, None]  # s-1 MeV-1 sr-1 × cos(lat)
            per_e = np.trapezoid(np.trapezoid(v, lat, axis=1), np.deg2rad(x), axis=1)
            self._bkg_rate_per_s = float(np.trapezoid(per_e * e * 1e6, np.log(e)))
        return self._bkg_rate_per_s

    def background_events(self, rng, run):
        """Background events of one run (dict of arrays), exact Poisson thinning of the BKG rate.

        Parameters
        ----------
        rng : `numpy.random.Generator`
            Random generator.
        run : `~gwidgets.core.simulate.schedule.Run`
            The observation.

        Returns
        -------
        dict
            Arrays ``time`` (MET s), ``ra``, ``dec`` (deg), ``energy`` (TeV), ``e_true`` (NaN) and ``mc_id``.

        Raises
        ------
        RuntimeError
            If the envelope is below the rate somewhere (never expected; the sample would be biased).
        """
        bkg = self.irfs["bkg"]
        fov = bkg.edges["fov_lon"]
        lat_edges = bkg.edges["fov_lat"]
        e_nodes, g = self._bkg_envelope()
        lo, hi = E_RECO_RANGE
        # intervals between nodes, clipped to the energy range; envelope q(E) = g_i (E/e_i)^s_i
        i = np.arange(len(e_nodes) - 1)
        a = np.clip(e_nodes[:-1], lo, hi)
        b = np.clip(e_nodes[1:], lo, hi)
        use = b > a
        i, a, b = i[use], a[use], b[use]
        s = np.log(g[i + 1] / g[i]) / np.log(e_nodes[i + 1] / e_nodes[i])
        s = np.where(np.abs(s + 1.0) < 1e-6, -1.0 + 1e-6, s)  # keep the E^(s+1) integrals finite
        p1 = s + 1.0
        integ = g[i] * e_nodes[i] / p1 * ((b / e_nodes[i]) ** p1 - (a / e_nodes[i]) ** p1) * 1e6  # per MeV -> TeV
        omega = np.deg2rad(fov[-1] - fov[0]) * np.deg2rad(lat_edges[-1] - lat_edges[0])
        n_prop = rng.poisson(run.ontime * omega * integ.sum())  # per observation time (GADF), not live time
        k = rng.choice(len(i), size=n_prop, p=integ / integ.sum())
        u = rng.random(n_prop)
        ak, bk, ek, pk = a[k] / e_nodes[i[k]], b[k] / e_nodes[i[k]], e_nodes[i[k]], p1[k]
        energy = ek * (ak**pk + u * (bk**pk - ak**pk)) ** (1.0 / pk)
        lon = rng.uniform(fov[0], fov[-1], n_prop)
        lat = rng.uniform(lat_edges[0], lat_edges[-1], n_prop)
        q = g[i[k]] * (energy / ek) ** s[k]
        rate = bkg.evaluate(energy=energy, fov_lon=lon, fov_lat=lat) * np.cos(np.deg2rad(lat))  # s-1 MeV-1 sr-1
        ratio = rate / q
        if n_prop and ratio.max() > 1.0:  # the envelope argument failed: never silently bias the sample
            raise RuntimeError(f"background envelope too low (ratio {ratio.max():.4f})")
        keep = rng.random(n_prop) < ratio
        energy, lon, lat = energy[keep], lon[keep], lat[keep]
        ra, dec = fov_to_sky(lon, lat, run.ra_pnt, run.dec_pnt)
        n = len(energy)
        durations = np.array([bb - aa for aa, bb in run.gtis])
        gi = rng.choice(len(run.gtis), size=n, p=durations / durations.sum())
        time = np.array([aa for aa, _ in run.gtis])[gi] + rng.random(n) * durations[gi]
        return {"time": time, "ra": ra, "dec": dec, "energy": energy, "e_true": np.full(n, np.nan),
                "mc_id": np.full(n, BACKGROUND_MC_ID, dtype=np.int16)}

