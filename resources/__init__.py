"""bpstudio's resources (icons, style sheets): installed as the package ``bpstudio.resources``.

Nothing to import here; find a file with :func:`bpstudio.gui.window_parts.resource_path`.
"""
