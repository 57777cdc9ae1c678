"""Energy dispersion: migration (E_reco / E_true) density vs true energy and offset (GADF ``edisp_2d``)."""
from __future__ import annotations

import astropy.units as u
import numpy as np

from .core import IRF

__all__ = ["EnergyDispersion2D"]


def _edges(edges, unit="TeV") -> np.ndarray:
    """Energy edges as floats in ``unit`` from a Quantity or an axis (``.edges``)."""
    edges = getattr(edges, "edges", edges)
    return np.asarray(u.Quantity(edges, unit).to_value(unit), dtype=float)


class EnergyDispersion2D(IRF):
    """Probability density of migra = E_reco / E_true vs (E_true, migra, offset) (GADF ``edisp_2d``).

    Parameters
    ----------
    axes : list of `~gwidgets.core.irf.axes.IRFAxis` or `~gwidgets.core.geom.MapAxis`
        ``energy_true``, ``migra``, ``offset``, in this order.
    data : numpy.ndarray
        Values, shape ``(nbin of each axis)``.
    unit : str or `~astropy.units.Unit`, optional
        Unit of ``data``, convertible to 1 (a density per unit migra) (the default).
    meta : dict, optional
        Header keywords.
    is_pointlike : bool, optional
        Point-like (``HDUCLAS3 = POINT-LIKE``) or full-enclosure IRF.

    Examples
    --------
    >>> edisp = gw.example_store().get_observations([1001])[0].edisp      # a simulated run's EDISP
    >>> pdf = edisp.evaluate(energy_true=1 * u.TeV, migra=[0.9, 1.0, 1.1], offset=0.5 * u.deg)
    >>> pdf.shape, bool(pdf[1] > pdf[0] and pdf[1] > pdf[2])                # peaked at migra = 1
    ((3,), True)
    >>> true_edges = np.geomspace(0.1, 100, 81) * u.TeV
    >>> reco_edges = np.geomspace(0.1, 100, 61) * u.TeV
    >>> edisp.pdf_matrix(true_edges, reco_edges, offset=0.5 * u.deg).shape
    (80, 60)
    """

    tag = "edisp_2d"
    required_axes = ("energy_true", "migra", "offset")
    column = "MATRIX"
    default_unit = u.one
    extname = "ENERGY DISPERSION"
    hduclas2 = "EDISP"

    @staticmethod
    def _mask_out_bounds(invalid):
        # as gammapy: outside in energy AND migra, or outside in offset
        return (invalid["energy_true"] & invalid["migra"]) | invalid["offset"]

    def pdf_matrix(self, energy_true_edges, energy_reco_edges, offset, threshold: float = 1e-8) -> np.ndarray:
        """P(reconstructed in reco bin j | true energy at the centre of true bin i), shape (n_true, n_reco).

        Equal to gammapy's ``EnergyDispersion2D.to_edisp_kernel(offset,
        energy_axis_true, energy_axis).pdf_matrix``: the migration density at each
        true-bin centre (log centre) is evaluated on the IRF's migra nodes,
        normalised to unit integral, integrated cumulatively over the migra bins
        and interpolated linearly at ``E_reco edge / E_true``; bin contents
        below ``threshold`` are set to 0.

        Parameters
        ----------
        energy_true_edges, energy_reco_edges : Quantity or axis
            Bin edges (or axes with ``.edges``).
        offset : Quantity
            Field-of-view offset (scalar).
        threshold : float, optional
            Bin contents below it are set to 0.

        Returns
        -------
        numpy.ndarray
            Probabilities, shape ``(n_true, n_reco)``; a row sums to the fraction of
            the migration density that falls within the reco edges.

        Raises
        ------
        ValueError
            If ``offset`` is not a scalar.
        """
        et = _edges(energy_true_edges)
        er = _edges(energy_reco_edges)
        log_et = np.log(et)
        e_true = np.exp(log_et[:-1] + 0.5 * (log_et[1:] - log_et[:-1]))
        migra_axis = self.axes["migra"]
        m_nodes = migra_axis.center_values
        m_edges = migra_axis._edges
        offset = u.Quantity(offset, u.deg)
        if offset.ndim:
            raise ValueError("pdf_matrix: offset must be a scalar")
        pdf = self._values(energy_true=u.Quantity(e_true[:, None], u.TeV), migra=m_nodes[None, :], offset=offset)
        # cumulative integral over the migra bins, from 0 at the first edge, normalised to end at 1
        cdf = np.zeros((len(e_true), len(m_edges)))
        np.cumsum(pdf * np.diff(m_edges), axis=1, out=cdf[:, 1:])
        with np.errstate(invalid="ignore", divide="ignore"):
            cdf = np.nan_to_num(cdf / cdf[:, -1:])
        # linear interpolation in migra at each reco edge; constant beyond the migra range
        m = er[None, :] / e_true[:, None]
        j = np.clip(np.searchsorted(m_edges, m, side="right") - 1, 0, len(m_edges) - 2)
        w = np.clip((m - m_edges[j]) / (m_edges[j + 1] - m_edges[j]), 0.0, 1.0)
        rows = np.arange(len(e_true))[:, None]
        values = cdf[rows, j] * (1.0 - w) + cdf[rows, j + 1] * w
        result = np.clip(np.diff(values, axis=1), 0, np.inf)
        result[result < threshold] = 0
        return result

    def migra_pdf(self, energy_true, offset, migra=None) -> tuple:
        """(migra nodes, density) at one true energy and offset: a quick look at the dispersion.

        Parameters
        ----------
        energy_true : `~astropy.units.Quantity`
            True energy (numbers are TeV).
        offset : `~astropy.units.Quantity`
            Field-of-view offset (numbers are deg).
        migra : array-like, optional
            Migration values; default the IRF's migra nodes.

        Returns
        -------
        migra : numpy.ndarray
            The migration values.
        pdf : numpy.ndarray
            Probability density per unit migra at those values.
        """
        migra = self.axes["migra"].center_values if migra is None else np.asarray(migra, float)
        pdf = self._values(energy_true=u.Quantity(energy_true, u.TeV), migra=migra, offset=u.Quantity(offset, u.deg))
        return migra, pdf

