"""Training toolkit: arguments, data sources and pre-flight, clip augmentation, and the Trainer."""
