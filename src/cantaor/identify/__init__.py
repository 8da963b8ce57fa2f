"""Identification of one recording with a self-describing model directory."""
