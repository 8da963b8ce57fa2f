"""Figures of the pipeline."""
