"""The kernel manager ``gwidgets dashboard`` gives Voilà: no culling of a kernel before its page has connected.

Voilà's culler (jupyter_server's ``MappingKernelManager``) shuts down a kernel that no page is connected to once
its last activity is older than ``cull_idle_timeout``. A pre-heated kernel waits idle in Voilà's pool (never
culled there); when a page takes it, its last activity is as old as its wait, so a culling pass between the
hand-over and the page's websocket connection (~1–2 s later) shuts it down and the page waits forever for a
kernel that no longer exists ("404 Kernel does not exist"). `DashboardKernelManager` culls a kernel only once a
page has connected to it, or, for a kernel handed out but never connected, after `PAGE_CONNECT_GRACE` seconds
(the page has gone).

Used through ``--VoilaConfiguration.multi_kernel_manager_class=gwidgets.app.voila_kernels.DashboardKernelManager``
(`gwidgets.app.cli_dashboard.voila_command` adds it when culling is on).
"""
from __future__ import annotations

import time

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

__all__ = ["DashboardKernelManager", "PAGE_CONNECT_GRACE"]

#: seconds a kernel handed to a page may wait for the page's connection before it can be culled
PAGE_CONNECT_GRACE = 300.0


class DashboardKernelManager(AsyncMappingKernelManager):
    """Jupyter's async kernel manager whose culler spares kernels no page has connected to yet.

    Parameters
    ----------
    **kwargs
        As `jupyter_server.services.kernels.kernelmanager.AsyncMappingKernelManager` (traitlets config).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.connected_once: set[str] = set()
        self.first_seen_unconnected: dict[str, float] = {}

    def notify_connect(self, kernel_id):
        """Note a page's connection to ``kernel_id`` (it may be culled once idle and disconnected).

        Parameters
        ----------
        kernel_id : str
            The kernel.
        """
        self.connected_once.add(kernel_id)
        self.first_seen_unconnected.pop(kernel_id, None)
        super().notify_connect(kernel_id)

    async def cull_kernel_if_idle(self, kernel_id):
        """Cull ``kernel_id`` as jupyter_server does, once a page has connected to it (or `PAGE_CONNECT_GRACE` passed).

        Parameters
        ----------
        kernel_id : str
            The kernel (Voilà's own manager has already skipped its pre-heated pool).

        Returns
        -------
        None
        """
        if kernel_id not in self.connected_once:
            first = self.first_seen_unconnected.setdefault(kernel_id, time.monotonic())
            if time.monotonic() - first < PAGE_CONNECT_GRACE:
                return None
        return await super().cull_kernel_if_idle(kernel_id)

    async def shutdown_kernel(self, kernel_id, *args, **kwargs):
        """Shut ``kernel_id`` down and forget its connection record.

        Parameters
        ----------
        kernel_id : str
            The kernel.
        *args, **kwargs
            As jupyter_server's ``shutdown_kernel``.

        Returns
        -------
        None
        """
        self.connected_once.discard(kernel_id)
        self.first_seen_unconnected.pop(kernel_id, None)
        return await super().shutdown_kernel(kernel_id, *args, **kwargs)
