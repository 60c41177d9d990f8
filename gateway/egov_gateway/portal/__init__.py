"""The single-window portal: a dependency-free web app (HTML, CSS, ES modules) served at ``/``.

No build step and nothing fetched from outside the machine: ``static/`` is served as it is.
"""
