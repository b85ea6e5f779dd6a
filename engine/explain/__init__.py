"""Why a drawing reads as it does: attributions, their map back to the canvas, robustness, ablation
and the nearest training images."""
