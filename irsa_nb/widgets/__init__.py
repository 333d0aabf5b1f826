"""The IRSA Explorer: an ipywidgets app for JupyterLab and Voila.

Not imported by ``import irsa_nb`` (it needs ipywidgets); use::

    from irsa_nb.widgets import Explorer
    Explorer("demo").container

:class:`ExplorerState` holds the logic (source, selection, results, messages) without
widgets, for tests and scripts.
"""

from ..pipeline import Source
from .app import Explorer
from .state import ALL, ExplorerState, Message

__all__ = ["ALL", "Explorer", "ExplorerState", "Message", "Source"]
