"""Azure stack tests."""
