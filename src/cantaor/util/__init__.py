"""Infrastructure shared by every stage: audio input, atomic output, logs, progress,
caches and signals.
"""
