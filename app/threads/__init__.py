"""Every way work leaves the GUI thread: generator jobs on their own thread, function jobs on a
pool (newest request first), the warm-up, one registry."""
