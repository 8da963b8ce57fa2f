"""The configuration: per-stage settings and the start-up checks a schema cannot express."""
