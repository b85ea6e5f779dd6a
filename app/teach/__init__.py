"""The Teach tab: the personal collection's gallery, corrections and fine-tuning."""
