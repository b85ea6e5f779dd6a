"""People's handwriting: digits drawn stroke by stroke, real pen recordings, what is not a digit,
calibration, the personal collection and fine-tuning."""
