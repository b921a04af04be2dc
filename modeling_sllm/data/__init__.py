"""Data: video sources and their pre-flight checks, the rows-to-model-inputs transform and the clip augmentation (shared by training and evaluation)."""
