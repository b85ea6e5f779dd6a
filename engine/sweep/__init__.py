"""Many runs at once: the sweep command, its table, its cluster, its summary and its runs in the
runs folder."""
