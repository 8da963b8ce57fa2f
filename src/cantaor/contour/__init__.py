"""Stage 2: cents-space clusters and signed contour symbols per phrase."""
