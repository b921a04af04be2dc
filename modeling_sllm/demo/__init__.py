"""Offline demo: generated demo videos and a tiny random CLIP."""
