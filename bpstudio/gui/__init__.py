"""bpstudio's Qt layer: renders snapshots and forwards user intent, nothing else."""


def create_main_window(*args, **kwargs):
    """Build the main window without entering the event loop (see :mod:`bpstudio.gui.app`)."""
    from bpstudio.gui.app import create_main_window as create

    return create(*args, **kwargs)


__all__ = ["create_main_window"]
