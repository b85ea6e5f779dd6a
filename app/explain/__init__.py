"""The Why? tab: its panel, views and computations, and its link to the drawing."""
