"""Side-by-side comparison with what a user would pick instead (`make bench-compare`)."""
