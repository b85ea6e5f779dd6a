"""Digitlab's run-time resources (the shipped model, the icon), installed as the package
``digitlab_resources``; :func:`engine.files.resources.resource` finds them."""
