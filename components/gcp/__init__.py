"""Gcp implementation of the app stack: not implemented yet (selecting it gives a clear error)."""
