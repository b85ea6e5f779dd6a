"""Scripts that make the documentation's screenshots (not part of the installed package)."""
