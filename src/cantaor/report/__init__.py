"""Figures and markdown tables of the pipeline."""
