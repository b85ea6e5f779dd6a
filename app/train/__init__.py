"""The Train tab: settings form, run control, live plots, and the jobs its thread runs."""
